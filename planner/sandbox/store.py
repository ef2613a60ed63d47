"""The sandbox's contact store: records, PUT semantics, validation, bulk query and state file.

Records are kept in the seed format: the GET shape with natural types, except that a contact
holds all its addresses as `addresses` (GET embeds only the primary one as `address`). Every
write builds the complete new record first, validates it, persists it, and only then swaps it
in, so a request that fails changes nothing.
"""
from __future__ import annotations

import calendar
import json
import os
import re
import tempfile
import threading
import time
from functools import lru_cache
from typing import Any, Callable

from planner import model

ID_KINDS = {"Contact": "contact", "ContactIndividual": "individual",
            "ContactMethod": "method", "ContactAddress": "address"}
# How items of a list are matched between body and stored record; no key = taken as given.
ITEM_KEYS = {"ContactIndividual": "id", "ContactMethod": "id", "ContactAddress": "id",
             "CustomField": "name"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
VIEW_URL = "https://app.virtuoussoftware.com/Generosity/Contact/View/{id}"
EDIT_URL = "https://app.virtuoussoftware.com/Generosity/Contact/Edit/{id}"
SEED_USER = "Sandbox seed"
API_USER = "API"


class SandboxError(Exception):
    """An answer the sandbox gives as an HTTP error; `legacy` selects the old error shape."""

    def __init__(self, status: int, code: str, message: str,
                 details: list[dict] | None = None, legacy: bool = False) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = list(details or [])
        self.legacy = legacy


def clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (several times faster than copy.deepcopy)."""
    return json.loads(json.dumps(value))


def detail(field: str | None, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


def not_found(what: str, ident: Any) -> SandboxError:
    return SandboxError(404, "NOT_FOUND", f"{what} {ident} was not found.")


# Timestamps are 100 ns ticks since the epoch, rendered as the live API does: no zone, 7 digits.
def format_ticks(ticks: int) -> str:
    secs, frac = divmod(ticks, 10_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:07d}"


_STAMP_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
                       r"\s*(Z|[+-]\d{2}:?\d{2})?$")


def parse_ticks(text: Any) -> int | None:
    """Ticks of an ISO timestamp or date (zone-less means UTC); None when unreadable."""
    match = _STAMP_RE.match(str(text).strip()) if text is not None else None
    if not match:
        return None
    y, mo, d, h, mi, s, frac, zone = match.groups()
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0)))
    except (ValueError, OverflowError):
        return None
    if zone and zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        secs += sign * (int(zone[1:3]) * 3600 + int(zone[-2:]) * 60)
    return secs * 10_000_000 + int(((frac or "") + "0000000")[:7])


@lru_cache(maxsize=None)
def _shape(resource: str) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, str], ...]]:
    """(every stored field with whether it is a list, the fields holding keyed sub-items)."""
    fields = model.fields(resource)
    stored = tuple((n, f.kind == "array") for n, f in fields.items() if n != "address")
    nested = tuple((n, f.item) for n, f in fields.items()
                   if f.kind == "array" and f.item in ITEM_KEYS)
    return stored, nested


def _blank(resource: str) -> dict:
    return {name: ([] if is_list else None) for name, is_list in _shape(resource)[0]}


def _fill(resource: str, item: dict) -> dict:
    """Give a record every field of its resource (nested too), with the sandbox's defaults."""
    stored, nested = _shape(resource)
    for name, is_list in stored:
        if name not in item:
            item[name] = [] if is_list else None
    for name, sub in nested:
        item[name] = [_fill(sub, x) for x in item[name] or []]
    if resource in ("ContactMethod", "ContactAddress"):
        item["canBePrimary"] = True if item["canBePrimary"] is None else item["canBePrimary"]
    if resource == "ContactIndividual":
        for flag in ("canBePrimary", "canBeSecondary"):
            item[flag] = True if item[flag] is None else item[flag]
    if resource == "CustomField" and not item.get("displayName"):
        item["displayName"] = item.get("name")
    return item


class _Write:
    """One write in progress: the PUT semantics, a private id allocator, and merge rules."""

    def __init__(self, next_ids: dict[str, int], semantics: str) -> None:
        self.next_ids = dict(next_ids)
        self.semantics = semantics

    def new_id(self, kind: str) -> int:
        self.next_ids[kind] += 1
        return self.next_ids[kind] - 1

    def merge(self, resource: str, stored: dict | None, body: dict, path: str) -> dict:
        """The record after applying `body` to `stored` (None: a new item) under the semantics."""
        out = clone(stored) if stored is not None else _blank(resource)
        if stored is None and resource in ID_KINDS:
            out["id"] = self.new_id(ID_KINDS[resource])
        for name, f in model.writable(resource).items():
            if resource == "Contact" and name == "address":
                continue  # the primary address slot is merged by the caller
            if name in body:
                value = body[name]
            elif stored is not None and self.semantics == "patch":
                continue
            else:
                value = [] if f.kind == "array" else None
            if f.kind == "array" and f.item:
                value = self.merge_list(f.item, (stored or {}).get(name) or [], value or [],
                                        f"{path}{name}")
            out[name] = value  # bodies are cloned once on the way in
        return _fill(resource, out)

    def merge_list(self, resource: str, stored: list, items: list, path: str) -> list:
        """A list present in a body replaces the stored one; items are matched by key."""
        key = ITEM_KEYS.get(resource)
        by_key = {x.get(key): x for x in stored} if key else {}
        seen, out = set(), []
        for i, item in enumerate(items):
            k = item.get(key) if key else None
            if k is not None and k in seen:
                raise SandboxError(422, "VALIDATION_FAILED", "The same item appears twice.",
                                   [detail(f"{path}[{i}].{key}", "DUPLICATE_ITEM",
                                           f"{key} {k!r} appears more than once")])
            seen.add(k)
            if k is not None and k not in by_key and key == "id":
                raise SandboxError(422, "VALIDATION_FAILED", "An item id is not part of this record.",
                                   [detail(f"{path}[{i}].id", "UNKNOWN_ID",
                                           f"no {resource} with id {k} here")])
            out.append(self.merge(resource, by_key.get(k) if k is not None else None,
                                  item, f"{path}[{i}]."))
        return out

    def primary_address(self, addresses: list, present: bool, value: dict | None) -> list:
        """Apply a Contact body's `address` (the primary slot) to the full address list."""
        if not present and self.semantics == "patch":
            return addresses
        primary = next((a for a in addresses if a.get("isPrimary") is True), None)
        others = [a for a in addresses if a is not primary]
        if value is None:  # null, or absent under replace: the primary address is deleted
            return others
        aid = value.get("id")
        target = None if aid is None else next((a for a in addresses if a["id"] == aid), None)
        if aid is not None and target is None:
            raise SandboxError(422, "VALIDATION_FAILED", "The address is not on this contact.",
                               [detail("address.id", "UNKNOWN_ID", f"no address with id {aid} here")])
        merged = self.merge("ContactAddress", target, value, "address.")
        merged["isPrimary"] = True
        if target is None:  # an address without id takes the place of the primary one
            return others + [merged]
        return [merged if a is target else (dict(a, isPrimary=False) if a is primary else a)
                for a in addresses]


def _individual_errors(ind: dict, prefix: str) -> list[dict]:
    details, primaries = [], set()
    for j, method in enumerate(ind.get("contactMethods") or []):
        kind = (method.get("type") or "").lower()
        category = "email" if "email" in kind else "phone" if "phone" in kind else None
        value = method.get("value")
        if category == "email" and not (isinstance(value, str) and EMAIL_RE.match(value)):
            details.append(detail(f"{prefix}contactMethods[{j}].value", "INVALID_EMAIL",
                                  f"{value!r} is not a valid email address"))
        if category and method.get("isPrimary") is True:
            if category in primaries:
                details.append(detail(f"{prefix}contactMethods", "DUPLICATE_PRIMARY",
                                      f"more than one primary {category} method"))
            primaries.add(category)
    return details


def _emails(record: dict) -> dict[str, str]:
    """Lower-cased email value -> field path, for every email method of a contact."""
    found = {}
    for i, ind in enumerate(record.get("contactIndividuals") or []):
        for j, method in enumerate(ind.get("contactMethods") or []):
            if "email" in (method.get("type") or "").lower() and isinstance(method.get("value"), str):
                found.setdefault(method["value"].strip().lower(),
                                 f"contactIndividuals[{i}].contactMethods[{j}].value")
    return found


def _ordered(resource: str, item: dict) -> dict:
    """A stored item with its fields in schema order, nested items too; shares leaf values."""
    out = {}
    for name, f in model.fields(resource).items():
        if name in item:
            value = item[name]
            if f.kind == "array" and f.item and f.item in ITEM_KEYS:
                value = [_ordered(f.item, x) for x in value or []]
            out[name] = value
    return out


def _int_value(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    return int(str(value).strip())


def _after(field: str) -> Callable[[dict, int], bool]:
    return lambda rec, v: (parse_ticks(rec.get(field)) or 0) > v


def _before(field: str) -> Callable[[dict, int], bool]:
    return lambda rec, v: (parse_ticks(rec.get(field)) or 0) < v


# parameter -> (value converter, {operator: test(record, converted value)})
QUERY_PARAMETERS: dict[str, tuple[Callable[[Any], Any], dict[str, Callable[[dict, Any], bool]]]] = {
    "Contact Id": (_int_value, {
        "Is": lambda rec, v: rec["id"] == v,
        "Is Not": lambda rec, v: rec["id"] != v,
        "Greater Than": lambda rec, v: rec["id"] > v,
        "Less Than": lambda rec, v: rec["id"] < v,
    }),
    "Last Modified Date": (parse_ticks, {"After": _after("modifiedDateTimeUtc"),
                                         "Before": _before("modifiedDateTimeUtc")}),
    "Create Date": (parse_ticks, {"After": _after("createDateTimeUtc"),
                                  "Before": _before("createDateTimeUtc")}),
}
SORT_KEYS = {"Id": "id", "Contact Id": "id", "Name": "name",
             "Last Modified Date": "modifiedDateTimeUtc", "Create Date": "createDateTimeUtc"}


class Store:
    """All contacts of one sandbox, behind one lock; the only place records change."""

    def __init__(self, contacts: list[dict], state_file: str | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self._last_tick = 0
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as handle:
                state = json.load(handle)
            contacts, self._last_tick = state["contacts"], int(state.get("clock", 0))
        self._contacts: dict[int, dict] = {}
        self._owner: dict[tuple[str, int], int] = {}  # (kind, id) -> contact id
        self._email_owners: dict[str, set[int]] = {}
        ids = _Write(self._first_free_ids(contacts), "patch")
        for raw in contacts:
            record = self._normalise(raw, ids)
            self._install(record["id"], record)
        self._next_ids = ids.next_ids

    # -- loading ---------------------------------------------------------------------------
    @staticmethod
    def _first_free_ids(contacts: list[dict]) -> dict[str, int]:
        highest = {kind: 0 for kind in ID_KINDS.values()}
        for c in contacts:
            highest["contact"] = max(highest["contact"], c.get("id") or 0)
            for a in c.get("addresses") or ([c["address"]] if c.get("address") else []):
                highest["address"] = max(highest["address"], a.get("id") or 0)
            for ind in c.get("contactIndividuals") or []:
                highest["individual"] = max(highest["individual"], ind.get("id") or 0)
                for m in ind.get("contactMethods") or []:
                    highest["method"] = max(highest["method"], m.get("id") or 0)
        return {kind: top + 1 for kind, top in highest.items()}

    def _normalise(self, raw: dict, ids: _Write) -> dict:
        """A seed or edited record made complete: ids, every field, defaults for read-only ones."""
        record = clone(raw)
        if "addresses" not in record:  # accept the GET shape too
            address = record.get("address")
            record["addresses"] = [dict(address, isPrimary=True)] if address else []
        record.pop("address", None)
        record["id"] = record.get("id") or ids.new_id("contact")
        for ind in record.get("contactIndividuals") or []:
            ind["id"] = ind.get("id") or ids.new_id("individual")
            ind["contactId"] = record["id"]
            for method in ind.get("contactMethods") or []:
                method["id"] = method.get("id") or ids.new_id("method")
        for address in record["addresses"]:
            address["id"] = address.get("id") or ids.new_id("address")
        record = _fill("Contact", record)
        record["addresses"] = [_fill("ContactAddress", a) for a in record["addresses"]]
        record["isArchived"] = bool(record.get("isArchived"))
        if not record.get("createDateTimeUtc"):
            record["createDateTimeUtc"] = self._stamp(None)
        record["createdByUser"] = record.get("createdByUser") or SEED_USER
        record["modifiedDateTimeUtc"] = record.get("modifiedDateTimeUtc") or record["createDateTimeUtc"]
        record["modifiedByUser"] = record.get("modifiedByUser") or record["createdByUser"]
        record["contactViewUrl"] = record.get("contactViewUrl") or VIEW_URL.format(id=record["id"])
        record["contactEditUrl"] = record.get("contactEditUrl") or EDIT_URL.format(id=record["id"])
        for money in ("lifeToDateGiving", "yearToDateGiving"):
            record[money] = record.get(money) or "$0.00"
        return record

    def _install(self, cid: int, record: dict | None) -> None:
        """Swap a contact's record in (None removes it) and keep the indexes in step."""
        old = self._contacts.get(cid)
        if old is not None:
            for key in self._keys(old):
                self._owner.pop(key, None)
            for email in _emails(old):
                self._email_owners.get(email, set()).discard(cid)
        if record is None:
            self._contacts.pop(cid, None)
            return
        self._contacts[cid] = record
        for key in self._keys(record):
            self._owner[key] = cid
        for email in _emails(record):
            self._email_owners.setdefault(email, set()).add(cid)

    @staticmethod
    def _keys(record: dict) -> list[tuple[str, int]]:
        keys = [("address", a["id"]) for a in record.get("addresses") or []]
        for ind in record.get("contactIndividuals") or []:
            keys.append(("individual", ind["id"]))
            keys += [("method", m["id"]) for m in ind.get("contactMethods") or []]
        return keys

    # -- time and persistence --------------------------------------------------------------
    def _stamp(self, previous: str | None) -> str:
        """A timestamp later than any given before and than `previous`, even if the clock stalls."""
        tick = max(time.time_ns() // 100, self._last_tick + 1, (parse_ticks(previous) or 0) + 1)
        self._last_tick = tick
        return format_ticks(tick)

    def _commit(self, record: dict, writer: str, ids: _Write | None = None) -> dict:
        cid = record["id"]
        old = self._contacts[cid]
        record["modifiedDateTimeUtc"] = self._stamp(old.get("modifiedDateTimeUtc"))
        record["modifiedByUser"] = writer
        self._install(cid, record)
        try:
            self.save()
        except BaseException:
            self._install(cid, old)
            raise
        if ids is not None:
            self._next_ids = ids.next_ids
        return record

    def save(self) -> None:
        """Write the whole state atomically: a temporary file beside it, then os.replace."""
        if not self.state_file:
            return
        with self.lock:
            state = {"contacts": list(self._contacts.values()), "clock": self._last_tick}
            folder = os.path.dirname(os.path.abspath(self.state_file))
            fd, tmp = tempfile.mkstemp(prefix=".sandbox-state-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    # readable for a demo-sized store, compact for a benchmark-sized one
                    json.dump(state, handle, indent=1 if len(self._contacts) < 1000 else None)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.state_file)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    # -- reads -------------------------------------------------------------------------------
    def _get(self, cid: int) -> dict:
        record = self._contacts.get(cid)
        if record is None:
            raise not_found("Contact", cid)
        return record

    def _owner_of(self, kind: str, ident: int, what: str) -> dict:
        cid = self._owner.get((kind, ident))
        if cid is None:
            raise not_found(what, ident)
        return self._contacts[cid]

    def raw(self, cid: int) -> dict:
        with self.lock:
            return clone(self._get(cid))

    def records(self) -> list[dict]:
        with self.lock:
            return clone(list(self._contacts.values()))

    def __len__(self) -> int:
        return len(self._contacts)

    @staticmethod
    def render(record: dict) -> dict:
        """A stored contact in the GET shape: the primary address embedded as `address`."""
        out = {}
        for name, f in model.fields("Contact").items():
            if name == "address":
                primary = next((a for a in record["addresses"] if a.get("isPrimary") is True), None)
                out[name] = _ordered("ContactAddress", primary) if primary else None
            elif f.kind == "array" and f.item in ITEM_KEYS:
                out[name] = [_ordered(f.item, x) for x in record.get(name) or []]
            else:
                out[name] = record.get(name)
        return clone(out)

    def contact(self, cid: int) -> dict:
        with self.lock:
            return self.render(self._get(cid))

    def individual(self, iid: int) -> dict:
        with self.lock:
            record = self._owner_of("individual", iid, "ContactIndividual")
            return clone(_ordered("ContactIndividual",
                                  next(i for i in record["contactIndividuals"] if i["id"] == iid)))

    def individuals_of(self, cid: int) -> list[dict]:
        with self.lock:
            return clone([_ordered("ContactIndividual", i) for i in self._get(cid)["contactIndividuals"]])

    def address(self, aid: int) -> dict:
        with self.lock:
            record = self._owner_of("address", aid, "ContactAddress")
            return clone(_ordered("ContactAddress", next(a for a in record["addresses"] if a["id"] == aid)))

    def addresses_of(self, cid: int) -> list[dict]:
        with self.lock:
            return clone([_ordered("ContactAddress", a) for a in self._get(cid)["addresses"]])

    def find_email(self, email: str) -> dict:
        with self.lock:
            owners = self._email_owners.get(email.strip().lower())
            if not owners:
                raise SandboxError(404, "NOT_FOUND", "No contact has that email address.")
            return self.render(self._contacts[min(owners)])

    def find_reference(self, source: str, ref: str) -> dict:
        with self.lock:
            for cid in sorted(self._contacts):
                for item in self._contacts[cid].get("contactReferences") or []:
                    if str(item.get("source", "")).lower() == source.lower() \
                            and str(item.get("id")) == ref:
                        return self.render(self._contacts[cid])
        raise SandboxError(404, "NOT_FOUND", "No contact has that reference.")

    def query(self, body: dict, skip: int, take: int) -> dict:
        """The bulk read: groups ORed, conditions ANDed, sorted, then one page."""
        groups = [self._compile(g, i) for i, g in enumerate(body.get("groups") or [])]
        sort_by = body.get("sortBy") or "Id"
        if sort_by not in SORT_KEYS:
            raise SandboxError(400, "UNKNOWN_PARAMETER", f"Cannot sort by {sort_by!r}.",
                               [detail("sortBy", "UNKNOWN_PARAMETER", f"one of {sorted(SORT_KEYS)}")])
        key = SORT_KEYS[sort_by]
        with self.lock:
            hits = [r for r in self._contacts.values()
                    if not groups or any(all(test(r) for test in g) for g in groups)]
            hits.sort(key=lambda r: (r.get(key) is None, r.get(key) or "", r["id"]),
                      reverse=bool(body.get("descending")))
            return {"list": [self.render(r) for r in hits[skip:skip + take]], "total": len(hits)}

    @staticmethod
    def _compile(group: Any, g: int) -> list[Callable[[dict], bool]]:
        tests = []
        conditions = group.get("conditions") if isinstance(group, dict) else None
        if not isinstance(conditions, list):
            raise SandboxError(400, "INVALID_PARAMETER", "A group needs a conditions list.",
                               [detail(f"groups[{g}].conditions", "INVALID_PARAMETER", "expected a list")])
        for c, cond in enumerate(conditions):
            where = f"groups[{g}].conditions[{c}]"
            if not isinstance(cond, dict):
                raise SandboxError(400, "INVALID_PARAMETER", "A condition must be an object.",
                                   [detail(where, "INVALID_PARAMETER", "expected an object")])
            param, operator, value = cond.get("parameter"), cond.get("operator"), cond.get("value")
            if param not in QUERY_PARAMETERS:
                raise SandboxError(400, "UNKNOWN_PARAMETER", f"Unknown query parameter {param!r}.",
                                   [detail(f"{where}.parameter", "UNKNOWN_PARAMETER",
                                           f"one of {sorted(QUERY_PARAMETERS)}")])
            convert, operators = QUERY_PARAMETERS[param]
            if operator not in operators:
                raise SandboxError(400, "UNKNOWN_OPERATOR", f"{param!r} has no operator {operator!r}.",
                                   [detail(f"{where}.operator", "UNKNOWN_OPERATOR",
                                           f"one of {sorted(operators)}")])
            try:
                converted = convert(value)
                if converted is None:
                    raise ValueError(value)
            except (TypeError, ValueError):
                raise SandboxError(400, "INVALID_PARAMETER", f"Bad value for {param!r}.",
                                   [detail(f"{where}.value", "INVALID_PARAMETER",
                                           f"{value!r} is not a valid value")]) from None
            tests.append(lambda rec, test=operators[operator], v=converted: test(rec, v))
        return tests

    # -- writes ------------------------------------------------------------------------------
    def _check(self, record: dict, individuals: list[tuple[dict, str]], check_name: bool) -> None:
        """Validate a complete new record: 422 for bad values, 409 for an email owned elsewhere."""
        details = []
        if check_name and not (isinstance(record.get("name"), str) and record["name"].strip()):
            details.append(detail("name", "REQUIRED", "name must not be empty"))
        for ind, prefix in individuals:
            details += _individual_errors(ind, prefix)
        if details:
            raise SandboxError(422, "VALIDATION_FAILED", "The record failed validation.", details)
        for email, path in _emails(record).items():
            others = self._email_owners.get(email, set()) - {record["id"]}
            if others:
                raise SandboxError(409, "DUPLICATE_EMAIL",
                                   f"{email} is already on contact {min(others)}.",
                                   [detail(path, "DUPLICATE_EMAIL", "email already on another contact")])

    def put_contact(self, cid: int, body: dict, semantics: str) -> dict:
        body = clone(body)  # the stored record must never share objects with a caller's body
        with self.lock:
            old = self._get(cid)
            write = _Write(self._next_ids, semantics)
            record = write.merge("Contact", old, body, "")
            record["addresses"] = write.primary_address(
                clone(old["addresses"]), "address" in body, body.get("address"))
            for ind in record["contactIndividuals"]:
                ind["contactId"] = cid
            self._check(record, [(ind, f"contactIndividuals[{i}].")
                                 for i, ind in enumerate(record["contactIndividuals"])], True)
            return self.render(self._commit(record, API_USER, write))

    def put_individual(self, iid: int, body: dict, semantics: str) -> dict:
        body = clone(body)  # the stored record must never share objects with a caller's body
        with self.lock:
            old = self._owner_of("individual", iid, "ContactIndividual")
            write = _Write(self._next_ids, semantics)
            record = clone(old)
            position = next(i for i, x in enumerate(record["contactIndividuals"]) if x["id"] == iid)
            merged = write.merge("ContactIndividual", record["contactIndividuals"][position], body, "")
            record["contactIndividuals"][position] = merged
            self._check(record, [(merged, "")], False)
            self._commit(record, API_USER, write)
            return clone(_ordered("ContactIndividual", merged))

    def put_address(self, aid: int, body: dict, semantics: str) -> dict:
        body = clone(body)  # the stored record must never share objects with a caller's body
        with self.lock:
            old = self._owner_of("address", aid, "ContactAddress")
            write = _Write(self._next_ids, semantics)
            record = clone(old)
            stored = next(a for a in record["addresses"] if a["id"] == aid)
            merged = write.merge("ContactAddress", stored, body, "")
            record["addresses"] = [
                merged if a is stored else (dict(a, isPrimary=False) if merged["isPrimary"] is True else a)
                for a in record["addresses"]]
            self._commit(record, API_USER, write)
            return clone(_ordered("ContactAddress", merged))

    def set_archived(self, cid: int, archived: bool) -> dict:
        with self.lock:
            record = clone(self._get(cid))
            if record["isArchived"] != archived:  # idempotent: a no-op leaves the record alone
                record["isArchived"] = archived
                record = self._commit(record, API_USER)
            return self.render(record)

    def admin_edit(self, cid: int, writer: str, changes: dict) -> dict:
        """Change a record as another writer (the UI, an integration) would: no validation.

        `changes["set"]` assigns top-level fields (`address` patches the primary address, null
        deletes it); `individuals`, `addresses` and `methods` map an id to the fields to
        assign, or to None to delete that item. Items added without ids get ids.
        """
        unknown = sorted(set(changes) - {"set", "individuals", "addresses", "methods"})
        if unknown:
            raise SandboxError(400, "UNKNOWN_FIELD", f"Unknown admin change {unknown[0]!r}.")
        with self.lock:
            record = clone(self._get(cid))
            write = _Write(self._next_ids, "patch")
            for name, value in (changes.get("set") or {}).items():
                if name == "address":  # the primary slot: null deletes, an object patches it
                    primary = next((a for a in record["addresses"] if a.get("isPrimary") is True), {})
                    value = None if value is None else {"id": primary.get("id"), **value}
                    record["addresses"] = write.primary_address(record["addresses"], True, value)
                else:
                    record[name] = clone(value)
            groups = {"individual": ("individuals", [record["contactIndividuals"]]),
                      "address": ("addresses", [record["addresses"]]),
                      "method": ("methods", [i["contactMethods"] for i in record["contactIndividuals"]])}
            for kind, (section, lists) in groups.items():
                for key, value in (changes.get(section) or {}).items():
                    home = next((lst for lst in lists for x in lst if x["id"] == int(key)), None)
                    if home is None:
                        raise not_found(kind, key)
                    index = next(i for i, x in enumerate(home) if x["id"] == int(key))
                    if value is None:
                        del home[index]
                    else:
                        home[index].update(clone(value))
            record = self._normalise(record, write)
            return clone(self._commit(record, writer, write))
