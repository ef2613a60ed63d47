"""The executor: guard every contact, then fresh GET, patch, full-record PUT, and verify.

It interprets the operations of a Plan against the API and never formats text; what it did
is returned as data (and reported to an observer, which the audit trail uses).
"""
from __future__ import annotations

import copy
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import jsonpatch
import jsonpointer

from planner.client import Client
from planner.errors import ApiError, ExitStatus, PlannerError, Staleness
from planner.differ import diff
from planner.normalize import (UnplannableError, canonical, canonical_address,
                               canonical_contact_doc, canonical_individual, natural,
                               natural_item)
from planner.ops import (ADD, REMOVE, Archive, ContactPlan, Operation, Plan, PutAddress, PutContact,
                         PutIndividual, Unarchive)
from planner.plan import labeler, same_method

APPLIED, NOT_CONVERGED, FAILED, REFUSED = "applied", "not converged", "failed", "refused"


class QuotaError(PlannerError):
    """The API's hourly request quota cannot cover the writes a plan needs."""


class Observer(Protocol):
    """Told about every request that changed something, as soon as it completed."""

    def on_write(self, contact_id: int, op: Operation, status: int | None,
                 before: dict | None, after: dict | None, error: ApiError | None) -> None: ...

    def on_verified(self, contact_id: int, outcome: "ContactOutcome") -> None: ...


@dataclass
class ContactOutcome:
    """What happened to one contact during apply."""

    contact_id: int
    file: str
    status: str = APPLIED
    writes: int = 0
    remaining: tuple[Operation, ...] = ()
    error: PlannerError | None = None
    stale: list[Staleness] = field(default_factory=list)
    verified: dict | None = field(default=None, repr=False)  # the record read back


@dataclass
class ApplyResult:
    """The outcome of one apply: refused before writing, or one outcome per changed contact."""

    refused: list[Staleness] = field(default_factory=list)
    outcomes: list[ContactOutcome] = field(default_factory=list)
    edited_elsewhere: list[Staleness] = field(default_factory=list)  # kept, not refused

    @property
    def ok(self) -> bool:
        return not self.refused and all(o.status == APPLIED for o in self.outcomes)

    @property
    def exit_status(self) -> ExitStatus:
        """Refused anywhere (before writing, or at a contact's fresh read): 3; else 1 unless
        every contact was applied and verified."""
        if self.refused or any(o.status == REFUSED for o in self.outcomes):
            return ExitStatus.STALE_PLAN
        return ExitStatus.SUCCESS if self.ok else ExitStatus.ERROR


# -- documents an operation patches --------------------------------------------------------
def doc_from_contact(op: Operation, live: dict) -> tuple[dict | None, str | None]:
    """The document of `op`'s resource inside a canonical contact, or why it is gone."""
    if isinstance(op, (Archive, Unarchive)):
        return {"isArchived": live["isArchived"]}, None
    if isinstance(op, PutContact):
        return live["contact"], None
    if isinstance(op, PutIndividual):
        doc = live["individuals"].get(str(op.individual_id))
        return (doc, None) if doc is not None else (None, "the individual no longer exists")
    if isinstance(op, PutAddress):
        if live["addressId"] != op.address_id:
            return None, f"the primary address is now {live['addressId']}, not {op.address_id}"
        return live["address"], None
    raise TypeError(op)


def doc_from_resource(op: Operation, raw: dict) -> dict:
    """The document of `op`'s resource from a fresh GET of that resource itself."""
    if isinstance(op, PutContact):
        return canonical_contact_doc(raw, op.contact_id)
    if isinstance(op, PutIndividual):
        return canonical_individual(raw, op.contact_id)
    if isinstance(op, PutAddress):
        return canonical_address(raw)
    raise TypeError(op)


_GONE = object()


def guard_violations(op: Operation, doc: dict | None, gone: str | None) -> list[Staleness]:
    """The changes of `op` whose planned-from value no longer holds in `doc`."""
    if doc is None:
        return [Staleness(op.contact_id, op.path, "(present)", gone)]
    stale = []
    for change in op.changes:
        try:
            current = jsonpointer.resolve_pointer(doc, change.pointer)
        except jsonpointer.JsonPointerException:
            current = _GONE
        if change.action == ADD:
            ok = current is _GONE or current == change.after
        else:
            ok = current is not _GONE and current == change.before
        if not ok:
            stale.append(Staleness(op.contact_id, change.label, change.before,
                                   "(absent)" if current is _GONE else current))
    return stale


def check_plan(plan: ContactPlan, now: dict, strict: bool) -> tuple[list[Staleness],
                                                                   Staleness | None]:
    """Guards of one contact against its current canonical record; and, when only fields the
    plan does not change were edited since, that edit (which the fresh GET carries through)."""
    stale: list[Staleness] = []
    for op in plan.operations:
        doc, gone = doc_from_contact(op, now)
        stale += guard_violations(op, doc, gone)
    planned, current = plan.live.get("modifiedDateTimeUtc"), now["modifiedDateTimeUtc"]
    if planned == current:
        return stale, None
    edit = Staleness(plan.contact_id, "modifiedDateTimeUtc", planned, current)
    if strict:
        return stale + [edit], None
    return stale, (None if stale else edit)


def _rekey_added_methods(op: Operation, doc: dict) -> dict:
    """Give methods this operation added their plan key back (the API gave them an id), by
    their identity (type, value), so the record read back compares with the plan."""
    added = [c for c in op.changes if c.action == ADD and c.path[0] == "contactMethods"
             and len(c.path) == 2 and c.path[1] not in doc.get("contactMethods", {})]
    if not added:
        return doc
    doc = copy.deepcopy(doc)
    methods = doc["contactMethods"]
    named = {c.path[1] for c in op.changes if c.path[0] == "contactMethods" and len(c.path) > 1}
    for change in added:
        wanted = change.after or {}
        found = next((i for i, m in methods.items() if i not in named
                      and same_method(m, wanted.get("type"), wanted.get("value"))), None)
        if found is not None:
            methods[change.path[1]] = methods.pop(found)
            named.add(change.path[1])
    return doc


def remaining(contact: ContactPlan, now: dict) -> tuple[Operation, ...]:
    """Re-plan a contact's operations against its current record: what is still to do."""
    left = []
    for op in contact.operations:
        doc, gone = doc_from_contact(op, now)
        if doc is None:
            left.append(op)
            continue
        doc = _rekey_added_methods(op, doc)
        todo = []
        for change in op.changes:
            try:
                jsonpointer.resolve_pointer(doc, change.pointer)
                present = True
            except jsonpointer.JsonPointerException:
                present = False
            if change.action != REMOVE or present:
                todo += [p for p in change.patch() if p["op"] != "test"]
        target = jsonpatch.apply_patch(doc, todo)
        changes = diff(doc, target, labeler(op.kind))
        if changes:
            left.append(dataclasses.replace(op, changes=changes))
    return tuple(left)


# -- request bodies -----------------------------------------------------------------------
# Each builder starts from the fresh record in natural types and sets only what the patch
# changed: a canonical value (where "" and null are one) is never written over an unchanged
# field, so the record goes back exactly as it came but for the planned changes.
def _changed(before: dict, after: dict) -> dict:
    return {k: v for k, v in after.items() if before.get(k, _GONE) != v}


def contact_body(raw: dict, before: dict, after: dict) -> dict:
    """The full Contact record to PUT: the fresh record with the planned changes on top."""
    body = natural("Contact", raw)
    body["id"] = raw.get("id")
    scalars = {k: v for k, v in after.items() if k not in ("customFields", "contactReferences")}
    body.update(_changed(before, scalars))
    wanted, custom, seen = after["customFields"], [], set()
    for item in body.get("customFields") or []:
        item, name = dict(item), item.get("name")
        seen.add(name)
        if name in wanted and before["customFields"].get(name) != wanted[name]:
            item["value"] = wanted[name]
        elif name not in wanted and name in before["customFields"]:
            item["value"] = None  # null clears
        custom.append(item)
    custom += [{"name": n, "value": v} for n, v in wanted.items() if n not in seen]
    body["customFields"] = custom
    refs, kept = [], set()
    for item in body.get("contactReferences") or []:
        key = f"{item.get('source')}:{item.get('id')}"
        if key in after["contactReferences"] or key not in before["contactReferences"]:
            refs.append(item)
            kept.add(key)
    refs += [dict(v) for k, v in after["contactReferences"].items() if k not in kept]
    body["contactReferences"] = refs
    return body


def individual_body(raw: dict, before: dict, after: dict) -> dict:
    """The full ContactIndividual to PUT, its contact methods changed as planned."""
    body = natural_item("ContactIndividual", raw)
    scalars = {k: v for k, v in after.items() if k != "contactMethods"}
    body.update(_changed(before, scalars))
    methods = []
    for item in raw.get("contactMethods") or []:
        method = natural_item("ContactMethod", item)
        key = str(method.get("id"))
        if key in after["contactMethods"]:
            method.update(_changed(before["contactMethods"].get(key, {}), after["contactMethods"][key]))
            methods.append(method)
        elif key not in before["contactMethods"]:
            methods.append(method)  # not in the planned document: leave it alone
    # Added methods go without an id: the API gives one (a method re-created by a revert
    # gets a new id; ids cannot be brought back).
    methods += [dict(fields) for key, fields in after["contactMethods"].items()
                if key not in before["contactMethods"]]
    body["contactMethods"] = methods
    return body


def address_body(raw: dict, before: dict, after: dict) -> dict:
    return natural_item("ContactAddress", raw) | _changed(before, after)


# -- the executor -------------------------------------------------------------------------
class Executor:
    """Applies a Plan through a Client, one contact at a time, in dependency order."""

    def __init__(self, client: Client, observer: Observer | None = None,
                 strict: bool = False) -> None:
        self.client = client
        self.observer = observer
        self.strict = strict

    def apply(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        # Phase 1: every contact is read and guarded before anything is written.
        changed = plan.changed
        with ThreadPoolExecutor(max_workers=8) as pool:
            records = list(pool.map(lambda c: self.client.get_contact(c.contact_id), changed))
        for contact, record in zip(changed, records):
            stale, edit = check_plan(contact, canonical(record), self.strict)
            result.refused += stale
            if edit is not None:
                result.edited_elsewhere.append(edit)
        if result.refused:
            return result
        # Starting what the organisation's hourly quota cannot finish would leave contacts
        # half-written; refuse now, while nothing is.
        needed = plan.requests_to_apply() - len(changed)
        left = self.client.rate_limit_remaining
        if left is not None and left < needed:
            raise QuotaError(f"apply needs {needed} more requests but the organisation has "
                             f"{left} left in this rate-limit window; nothing was written. "
                             "Try again after the window resets, or apply fewer contacts.")
        # Phase 2: write, contact by contact; a failed contact gets no further writes.
        for contact in changed:
            result.outcomes.append(self.apply_contact(contact))
        return result

    def _write(self, op: Operation) -> tuple[dict | None, dict | None, list[Staleness]]:
        """One operation: fresh GET, guard, patch, full PUT. Returns (before, after, stale)."""
        client = self.client
        if isinstance(op, Archive):
            return {"isArchived": False}, (client.archive(op.contact_id) or {"isArchived": True}), []
        if isinstance(op, Unarchive):
            return {"isArchived": True}, (client.unarchive(op.contact_id) or {"isArchived": False}), []
        getter, putter, builder = {
            PutContact: (client.get_contact, client.put_contact, contact_body),
            PutIndividual: (client.get_individual, client.put_individual, individual_body),
            PutAddress: (client.get_address, client.put_address, address_body),
        }[type(op)]
        raw = getter(op.resource_id)
        doc = doc_from_resource(op, raw)
        stale = guard_violations(op, doc, None)
        if stale:
            return raw, None, stale
        patched = jsonpatch.apply_patch(copy.deepcopy(doc),
                                        [p for p in op.patch() if p["op"] != "test"])
        return raw, putter(op.resource_id, builder(raw, doc, patched)), []

    def apply_contact(self, contact: ContactPlan) -> ContactOutcome:
        outcome = ContactOutcome(contact.contact_id, contact.file)
        for op in contact.operations:
            try:
                before, after, stale = self._write(op)
            except ApiError as exc:
                self._tell_write(contact, op, exc.status, None, None, exc)
                outcome.status, outcome.error = FAILED, exc
                return self._verified(outcome)
            except UnplannableError as exc:  # the fresh record cannot be read: never write it
                outcome.status, outcome.error = FAILED, exc
                return self._verified(outcome)
            if stale:
                outcome.status, outcome.stale = REFUSED, stale
                return self._verified(outcome)
            outcome.writes += 1
            # Phase 2 is serial, so the client's last exchange is this operation's write.
            self._tell_write(contact, op, self.client.exchanges[-1].status, before, after, None)
        try:
            fresh = self.client.get_contact(contact.contact_id)
            outcome.verified = fresh
            left = remaining(contact, canonical(fresh))
        except (ApiError, UnplannableError) as exc:
            outcome.status, outcome.error = FAILED, exc
            return self._verified(outcome)
        if left:
            outcome.status, outcome.remaining = NOT_CONVERGED, left
        return self._verified(outcome)

    def _tell_write(self, contact, op, status, before, after, error) -> None:
        if self.observer is not None:
            self.observer.on_write(contact.contact_id, op, status, before, after, error)

    def _verified(self, outcome: ContactOutcome) -> ContactOutcome:
        if self.observer is not None:
            self.observer.on_verified(outcome.contact_id, outcome)
        return outcome
