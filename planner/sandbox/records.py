"""Record helpers of the sandbox store: errors, timestamps, complete records, merges, checks.

A stored record is complete: every field of its resource is present (nested items too), with
the sandbox's defaults. `Write` merges a request body into a stored record under the PUT
semantics; `individual_errors` and `emails` feed the store's validation.
"""
from __future__ import annotations

import calendar
import json
import re
import time
from functools import lru_cache
from typing import Any

from planner import model

ID_KINDS = {"Contact": "contact", "ContactIndividual": "individual",
            "ContactMethod": "method", "ContactAddress": "address"}
# How items of a list are matched between body and stored record; no key = taken as given.
ITEM_KEYS = {"ContactIndividual": "id", "ContactMethod": "id", "ContactAddress": "id",
             "CustomField": "name"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def fill(resource: str, item: dict) -> dict:
    """Give a record every field of its resource (nested too), with the sandbox's defaults."""
    stored, nested = _shape(resource)
    for name, is_list in stored:
        if name not in item:
            item[name] = [] if is_list else None
    for name, sub in nested:
        item[name] = [fill(sub, x) for x in item[name] or []]
    if resource in ("ContactMethod", "ContactAddress"):
        item["canBePrimary"] = True if item["canBePrimary"] is None else item["canBePrimary"]
    if resource == "ContactIndividual":
        for flag in ("canBePrimary", "canBeSecondary"):
            item[flag] = True if item[flag] is None else item[flag]
    if resource == "CustomField" and not item.get("displayName"):
        item["displayName"] = item.get("name")
    return item


class Write:
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
        return fill(resource, out)

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


def individual_errors(ind: dict, prefix: str) -> list[dict]:
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


def emails(record: dict) -> dict[str, str]:
    """Lower-cased email value -> field path, for every email method of a contact."""
    found = {}
    for i, ind in enumerate(record.get("contactIndividuals") or []):
        for j, method in enumerate(ind.get("contactMethods") or []):
            if "email" in (method.get("type") or "").lower() and isinstance(method.get("value"), str):
                found.setdefault(method["value"].strip().lower(),
                                 f"contactIndividuals[{i}].contactMethods[{j}].value")
    return found


def ordered(resource: str, item: dict) -> dict:
    """A stored item with its fields in schema order, nested items too; shares leaf values."""
    out = {}
    for name, f in model.fields(resource).items():
        if name in item:
            value = item[name]
            if f.kind == "array" and f.item and f.item in ITEM_KEYS:
                value = [ordered(f.item, x) for x in value or []]
            out[name] = value
    return out
