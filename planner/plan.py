"""Pure planning: (desired contact, live record) -> the operations that converge them.

No HTTP, no files, no click. The desired state is overlaid on a copy of the canonical live
record; every resource whose document differs gets one operation, in dependency order.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping, Sequence

from planner import model
from planner.differ import default_label, diff
from planner.errors import DesiredStateError
from planner.normalize import (UnplannableError, canonical, custom_value, normalize_value,
                               reference_key)
from planner.ops import (ORDER, Archive, ContactPlan, Operation, Plan, PutAddress, PutContact,
                         PutIndividual, Unarchive, Unplannable)

NEW_PREFIX = "new:"


def category(method_type: Any) -> str:
    """Which methods share one primary: every email type, every phone type, else the type."""
    text = str(method_type or "").lower()
    for word in ("email", "phone"):
        if word in text:
            return word
    return text


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return a == b


def _typed(resource: str, values: Mapping[str, Any]) -> dict[str, Any]:
    kinds = model.fields(resource)
    return {k: normalize_value(kinds[k].kind, v) if k in kinds else v for k, v in values.items()}


def same_method(method: Mapping[str, Any], kind: Any, value: Any) -> bool:
    """A contact method's identity is its (type, value), compared case-insensitively."""
    return _same(method.get("type"), kind) and _same(method.get("value"), value)


def _matches(item: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
    return all(_same(item.get(k), v) for k, v in match.items())


def _describe(match: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in match.items()) + "}"


def individual_label(ident: str, doc: Mapping[str, Any]) -> str:
    name = " ".join(str(doc.get(k)) for k in ("firstName", "lastName") if doc.get(k))
    return f"#{ident} {name}".strip()


def method_label(ident: str, doc: Mapping[str, Any]) -> str:
    if ident.startswith(NEW_PREFIX):
        return f"new {doc.get('type')} {doc.get('value')}"
    if ident.startswith("-"):  # see _as_if_applied
        return f"{doc.get('type')} {doc.get('value')} (added by this file)"
    return f"#{ident} {doc.get('type')}"


def _select(file: str, path: str, what: str, items: Mapping[str, dict],
            match: Mapping[str, Any], label) -> list[str]:
    found = [ident for ident, item in items.items() if _matches(item, match)]
    if len(found) > 1:
        names = ", ".join(label(i, items[i]) for i in found)
        raise DesiredStateError(file, f"{path}.match",
                                f"{_describe(match)} selects {len(found)} {what}s ({names}); "
                                "add a field to the match so it selects exactly one")
    return found


def _candidates(items: Mapping[str, dict], label) -> str:
    return ", ".join(label(i, d) for i, d in items.items()) or "none"


def _overlay_methods(desired_ind, ind: dict, file: str) -> None:
    methods: dict[str, dict] = ind["contactMethods"]
    promoted: set[str] = set()
    for spec in desired_ind.methods:
        fields = _typed("ContactMethod", spec.fields)
        if spec.match is not None:
            found = _select(file, spec.path, "contact method", methods,
                            _typed("ContactMethod", spec.match), method_label)
            if not found:
                if spec.absent:
                    continue  # already gone: nothing to do
                raise DesiredStateError(
                    file, f"{spec.path}.match",
                    f"{_describe(spec.match)} selects no contact method; candidates: "
                    f"{_candidates(methods, method_label)}")
            ident = found[0]
        else:
            ident = next((i for i, m in methods.items()
                          if same_method(m, fields.get("type"), fields.get("value"))), None)
            if ident is None:
                if spec.absent:
                    continue
                ident = f"{NEW_PREFIX}{fields.get('type')}:{fields.get('value')}"
                methods[ident] = {name: None for name in model.writable("ContactMethod")}
                methods[ident]["isPrimary"] = False
        if spec.absent:
            del methods[ident]
            continue
        methods[ident].update(fields)
        if fields.get("isPrimary") is True:
            promoted.add(ident)
    # One primary per category: a method made primary demotes the previous one, visibly.
    for ident in promoted:
        kind = category(methods[ident].get("type"))
        for other, method in methods.items():
            if other not in promoted and method.get("isPrimary") is True \
                    and category(method.get("type")) == kind:
                method["isPrimary"] = False


def _overlay_individuals(desired, target: dict) -> None:
    individuals: dict[str, dict] = target["individuals"]
    for spec in desired.individuals:
        if spec.id is not None:
            ident = str(spec.id)
            if ident not in individuals:
                raise DesiredStateError(
                    desired.file, f"{spec.path}.id",
                    f"contact {target['id']} has no individual {spec.id}; candidates: "
                    f"{_candidates(individuals, individual_label)}")
        else:
            found = _select(desired.file, spec.path, "individual", individuals,
                            _typed("ContactIndividual", spec.match), individual_label)
            if not found:
                raise DesiredStateError(
                    desired.file, f"{spec.path}.match",
                    f"{_describe(spec.match)} selects no individual; candidates: "
                    f"{_candidates(individuals, individual_label)}")
            ident = found[0]
        individuals[ident].update(_typed("ContactIndividual", spec.fields))
        _overlay_methods(spec, individuals[ident], desired.file)


def desired_target(desired, live: dict) -> dict:
    """A copy of the canonical live record with everything the file names set."""
    target = copy.deepcopy(live)
    doc = target["contact"]
    doc.update(_typed("Contact", desired.fields))
    for name, value in desired.custom_fields.items():
        value = custom_value(value)
        if value is None:
            doc["customFields"].pop(name, None)
        else:
            doc["customFields"][name] = value
    for ref in desired.references:
        key = reference_key(ref.source, ref.id)
        if ref.absent:
            doc["contactReferences"].pop(key, None)
        else:
            doc["contactReferences"][key] = {"source": ref.source, "id": ref.id}
    if desired.address:
        if target["address"] is None:
            raise DesiredStateError(desired.file, "contact.address",
                                    f"contact {target['id']} has no primary address to update "
                                    "(planner changes existing addresses only)")
        target["address"].update(_typed("ContactAddress", desired.address))
    _overlay_individuals(desired, target)
    if desired.is_archived is not None:
        target["isArchived"] = desired.is_archived
    return target


def contact_label(path: tuple[str, ...], before: dict, after: dict) -> str:
    if path[0] == "customFields" and len(path) > 1:
        return f'customFields["{path[1]}"]' + "".join(f".{p}" for p in path[2:])
    if path[0] == "contactReferences" and len(path) > 1:
        return f"contactReferences[{path[1]}]"
    return ".".join(path)


def individual_change_label(path: tuple[str, ...], before: dict, after: dict) -> str:
    if path[0] == "contactMethods" and len(path) > 1:
        doc = after["contactMethods"].get(path[1]) or before["contactMethods"].get(path[1]) or {}
        return f"contactMethods[{method_label(path[1], doc)}]" + "".join(f".{p}" for p in path[2:])
    return ".".join(path)


def _as_if_applied(target: dict) -> dict:
    """The target as the API would show it after apply: added methods carry ids."""
    settled = copy.deepcopy(target)
    serial = 0
    for individual in settled["individuals"].values():
        methods = individual["contactMethods"]
        for key in [k for k in methods if k.startswith(NEW_PREFIX)]:
            serial += 1
            methods[f"-{serial}"] = methods.pop(key)  # no real id is negative
    return settled


def _findable(find: Mapping[str, str], record: dict) -> bool:
    """Whether GET /api/Contact/Find would still answer this record for `find`."""
    if "email" in find:
        return any(category(m.get("type")) == "email" and _same(m.get("value"), find["email"])
                   for ind in record["individuals"].values()
                   for m in ind["contactMethods"].values())
    key = reference_key(find["referenceSource"], find["referenceId"])
    return key in record["contact"]["contactReferences"]


def check_converges(desired, target: dict) -> None:
    """Refuse a file that would not converge: planned again after its own apply, it must
    plan nothing. (A match naming a field the file changes, or an `absent` match that also
    selects an item the file adds, would change the record on every apply.)"""
    if desired.find and not _findable(desired.find, target):
        raise DesiredStateError(desired.file, "contact.find",
                                "this file removes or changes what `find` looks its contact up "
                                "by, so after apply the contact could not be found; use "
                                f"`id: {target['id']}` instead")
    settled = _as_if_applied(target)
    try:
        again = desired_target(desired, settled)
    except DesiredStateError as exc:
        raise DesiredStateError(exc.file, exc.path, f"after this file is applied, {exc.message}; "
                                "a match must not name a field the file changes") from None
    if again != settled:
        first = diff(settled, again)[0].path
        where = ".".join(first)
        if first[0] == "individuals" and len(first) > 2:
            doc = settled["individuals"][first[1]]
            where = (f"individual {individual_label(first[1], doc)}: "
                     + individual_change_label(first[2:], doc, again["individuals"][first[1]]))
        raise DesiredStateError(desired.file, "contact",
                                f"the file would not converge: applied twice, it changes {where} "
                                "again (does an `absent` match also select an item this file adds?)")


def labeler(kind: str):
    """How the changes of one kind of operation are labelled for a reviewer."""
    return {"put_contact": contact_label, "put_individual": individual_change_label}.get(
        kind, default_label)


def plan_contact(desired, live_raw: dict) -> ContactPlan:
    """The operations that bring one live contact to the state its desired file names."""
    live = canonical(live_raw)
    target = desired_target(desired, live)
    cid, why = live["id"], desired.file
    ops: list[Operation] = []
    if live["isArchived"] != target["isArchived"]:
        lifecycle = diff({"isArchived": live["isArchived"]}, {"isArchived": target["isArchived"]})
        ops.append((Archive if target["isArchived"] else Unarchive)(cid, lifecycle, why))
    changes = diff(live["contact"], target["contact"], contact_label)
    if changes:
        ops.append(PutContact(cid, changes, why))
    for ident in sorted(live["individuals"], key=int):
        changes = diff(live["individuals"][ident], target["individuals"][ident], individual_change_label)
        if changes:
            ops.append(PutIndividual(cid, changes, why, individual_id=int(ident)))
    if live["address"] is not None:
        changes = diff(live["address"], target["address"])
        if changes:
            ops.append(PutAddress(cid, changes, why, address_id=live["addressId"]))
    ops.sort(key=lambda op: ORDER[op.kind])
    if ops:
        check_converges(desired, target)
    return ContactPlan(cid, live["contact"].get("name"), desired.file, live, tuple(ops))


def make_plan(pairs: Iterable[tuple[Any, dict]], sources: Sequence[tuple[str, str]] = ()) -> Plan:
    """Plan every (desired, live record) pair; two files may not manage one contact."""
    seen: dict[int, str] = {}
    contacts, unplannable = [], []
    for desired, live_raw in pairs:
        try:
            contact_plan = plan_contact(desired, live_raw)
        except UnplannableError as exc:
            unplannable.append(Unplannable(desired.file, exc.contact_id, exc.reason))
            continue
        if contact_plan.contact_id in seen:
            raise DesiredStateError(desired.file, "contact",
                                    f"contact {contact_plan.contact_id} is also managed by "
                                    f"{seen[contact_plan.contact_id]}; one file per contact")
        seen[contact_plan.contact_id] = desired.file
        contacts.append(contact_plan)
    contacts.sort(key=lambda c: (c.file, c.contact_id))
    return Plan(tuple(contacts), tuple(sources), tuple(sorted(unplannable, key=lambda u: u.file)))
