"""The sandbox's contact store: contacts, indexes, reads, writes and state file.

Records are kept in the seed format: the GET shape with natural types, except that a contact
holds all its addresses as `addresses` (GET embeds only the primary one as `address`). Every
write builds the complete new record first, validates it, persists it, and only then swaps it
in, so a request that fails changes nothing.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import time

from planner import model
from planner.sandbox.query import compile_query
from planner.sandbox.records import (ID_KINDS, ITEM_KEYS, SandboxError, Write, clone, detail, emails,
                                     fill, format_ticks, individual_errors, not_found, ordered,
                                     parse_ticks)

__all__ = ["Store", "SandboxError", "detail"]  # app.py takes the error helpers from here

VIEW_URL = "https://app.virtuoussoftware.com/Generosity/Contact/View/{id}"
EDIT_URL = "https://app.virtuoussoftware.com/Generosity/Contact/Edit/{id}"
SEED_USER = "Sandbox seed"
API_USER = "API"


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
        ids = Write(self._first_free_ids(contacts), "patch")
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

    def _normalise(self, raw: dict, ids: Write) -> dict:
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
        record = fill("Contact", record)
        record["addresses"] = [fill("ContactAddress", a) for a in record["addresses"]]
        archived = record.get("isArchived")  # a seed may spell it as the spec types it
        record["isArchived"] = (archived.strip().lower() == "true" if isinstance(archived, str)
                                else bool(archived))
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
            for email in emails(old):
                self._email_owners.get(email, set()).discard(cid)
        if record is None:
            self._contacts.pop(cid, None)
            return
        self._contacts[cid] = record
        for key in self._keys(record):
            self._owner[key] = cid
        for email in emails(record):
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

    def _commit(self, record: dict, writer: str, ids: Write | None = None) -> dict:
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
                out[name] = ordered("ContactAddress", primary) if primary else None
            elif f.kind == "array" and f.item in ITEM_KEYS:
                out[name] = [ordered(f.item, x) for x in record.get(name) or []]
            else:
                out[name] = record.get(name)
        return clone(out)

    def contact(self, cid: int) -> dict:
        with self.lock:
            return self.render(self._get(cid))

    def individual(self, iid: int) -> dict:
        with self.lock:
            record = self._owner_of("individual", iid, "ContactIndividual")
            return clone(ordered("ContactIndividual",
                                  next(i for i in record["contactIndividuals"] if i["id"] == iid)))

    def individuals_of(self, cid: int) -> list[dict]:
        with self.lock:
            return clone([ordered("ContactIndividual", i) for i in self._get(cid)["contactIndividuals"]])

    def address(self, aid: int) -> dict:
        with self.lock:
            record = self._owner_of("address", aid, "ContactAddress")
            return clone(ordered("ContactAddress", next(a for a in record["addresses"] if a["id"] == aid)))

    def addresses_of(self, cid: int) -> list[dict]:
        with self.lock:
            return clone([ordered("ContactAddress", a) for a in self._get(cid)["addresses"]])

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
        select = compile_query(body)
        with self.lock:
            hits = select(self._contacts.values())
            return {"list": [self.render(r) for r in hits[skip:skip + take]], "total": len(hits)}

    # -- writes ------------------------------------------------------------------------------
    def _check(self, record: dict, individuals: list[tuple[dict, str]], check_name: bool) -> None:
        """Validate a complete new record: 422 for bad values, 409 for an email owned elsewhere."""
        details = []
        if check_name and not (isinstance(record.get("name"), str) and record["name"].strip()):
            details.append(detail("name", "REQUIRED", "name must not be empty"))
        for ind, prefix in individuals:
            details += individual_errors(ind, prefix)
        if details:
            raise SandboxError(422, "VALIDATION_FAILED", "The record failed validation.", details)
        for email, path in emails(record).items():
            others = self._email_owners.get(email, set()) - {record["id"]}
            if others:
                raise SandboxError(409, "DUPLICATE_EMAIL",
                                   f"{email} is already on contact {min(others)}.",
                                   [detail(path, "DUPLICATE_EMAIL", "email already on another contact")])

    def put_contact(self, cid: int, body: dict, semantics: str) -> dict:
        body = clone(body)  # the stored record must never share objects with a caller's body
        with self.lock:
            old = self._get(cid)
            write = Write(self._next_ids, semantics)
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
            write = Write(self._next_ids, semantics)
            record = clone(old)
            position = next(i for i, x in enumerate(record["contactIndividuals"]) if x["id"] == iid)
            merged = write.merge("ContactIndividual", record["contactIndividuals"][position], body, "")
            record["contactIndividuals"][position] = merged
            self._check(record, [(merged, "")], False)
            self._commit(record, API_USER, write)
            return clone(ordered("ContactIndividual", merged))

    def put_address(self, aid: int, body: dict, semantics: str) -> dict:
        body = clone(body)  # the stored record must never share objects with a caller's body
        with self.lock:
            old = self._owner_of("address", aid, "ContactAddress")
            write = Write(self._next_ids, semantics)
            record = clone(old)
            stored = next(a for a in record["addresses"] if a["id"] == aid)
            merged = write.merge("ContactAddress", stored, body, "")
            record["addresses"] = [
                merged if a is stored else (dict(a, isPrimary=False) if merged["isPrimary"] is True else a)
                for a in record["addresses"]]
            self._commit(record, API_USER, write)
            return clone(ordered("ContactAddress", merged))

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
            write = Write(self._next_ids, "patch")
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
