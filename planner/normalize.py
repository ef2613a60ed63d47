"""Canonical form of live records: natural types, and arrays keyed by identity.

The live API may answer `"true"` or `true`, `"7"` or `7`, `""` or `null`, dates with or without
a time, timestamps with any number of fraction digits. Everything is brought to one form here,
so that the differ only ever sees real changes. Arrays become mappings keyed by identity (ids,
custom field names, reference source and id), never by position.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from planner import model
from planner.errors import PlannerError


class UnplannableError(PlannerError):
    """A live record planner cannot read completely; it is never written."""

    def __init__(self, contact_id: Any, reason: str) -> None:
        self.contact_id = contact_id
        self.reason = reason
        super().__init__(f"contact {contact_id}: cannot be planned: {reason}")


_DATE_FORMS = ("%Y-%m-%d", "%m/%d/%Y")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]00:?00)?$")


def normalize_date(value: Any) -> Any:
    """An ISO date "YYYY-MM-DD" from a date, an ISO string with or without a midnight time,
    or the US form "9/4/1998"; anything else unchanged (so it still shows as a change)."""
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    text = value.strip()
    match = _DATETIME.match(text)
    if match and set(match.group(2)) <= {"0", ":"} and not (match.group(3) or "0").strip("0"):
        return match.group(1)
    for form in _DATE_FORMS:
        try:
            return dt.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    return value


def normalize_timestamp(value: Any) -> Any:
    """A live timestamp with exactly 7 fraction digits and no zone suffix."""
    if not isinstance(value, str):
        return value
    match = _DATETIME.match(value.strip())
    if not match:
        return value
    fraction = (match.group(3) or "")[:7].ljust(7, "0")
    return f"{match.group(1)}T{match.group(2)}.{fraction}"


def normalize_value(kind: str, value: Any) -> Any:
    """One scalar in its natural type; "" and null are the same absence."""
    if value is None or value == "":
        return None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        return value
    if kind == "integer":
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        return value
    if kind == "date":
        return normalize_date(value)
    if kind == "datetime":
        return normalize_timestamp(value)
    if kind in ("string", "money") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def custom_value(value: Any) -> str | None:
    """Custom field values travel as strings whatever their type."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def reference_key(source: str, ref_id: str) -> str:
    return f"{source}:{ref_id}"


def _mapping(value: Any, what: str, contact_id: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnplannableError(contact_id, f"{what} is a {type(value).__name__}, expected an object")
    return value


def _items(value: Any, what: str, contact_id: Any) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise UnplannableError(contact_id, f"{what} is not a list of objects")
    return value


def _item_id(item: dict, what: str, contact_id: Any) -> str:
    ident = normalize_value("integer", item.get("id"))
    if not isinstance(ident, int) or isinstance(ident, bool):
        raise UnplannableError(contact_id, f"{what} has no usable id ({item.get('id')!r})")
    return str(ident)


def scalars(resource: str, raw: dict) -> dict[str, Any]:
    """Every writable scalar field of a resource, normalised (absent fields become None)."""
    return {name: normalize_value(f.kind, raw.get(name))
            for name, f in model.writable(resource).items() if f.kind not in ("array", "object")}


def canonical_method(raw: dict) -> dict:
    return scalars("ContactMethod", raw)


def canonical_individual(raw: dict, contact_id: Any = None) -> dict:
    doc = scalars("ContactIndividual", raw)
    methods = {}
    for item in _items(raw.get("contactMethods"), "contactMethods", contact_id):
        methods[_item_id(item, "a contact method", contact_id)] = canonical_method(item)
    doc["contactMethods"] = methods
    return doc


def canonical_address(raw: dict) -> dict:
    return scalars("ContactAddress", raw)


def canonical_contact_doc(raw: dict, contact_id: Any = None) -> dict:
    """The Contact's own document: top-level fields, custom fields, references."""
    doc = scalars("Contact", raw)
    custom = {}
    for item in _items(raw.get("customFields"), "customFields", contact_id):
        if not isinstance(item.get("name"), str):
            raise UnplannableError(contact_id, "a custom field has no name")
        value = custom_value(item.get("value"))
        if value is not None:
            custom[item["name"]] = value
    doc["customFields"] = custom
    refs = {}
    for item in _items(raw.get("contactReferences"), "contactReferences", contact_id):
        source, ref_id = custom_value(item.get("source")), custom_value(item.get("id"))
        if source is None or ref_id is None:
            raise UnplannableError(contact_id, "a contact reference lacks source or id")
        refs[reference_key(source, ref_id)] = {"source": source, "id": ref_id}
    doc["contactReferences"] = refs
    return doc


def canonical(raw: Any) -> dict:
    """The canonical form of a whole Contact as GET returns it.

    {"id", "isArchived", "modifiedDateTimeUtc", "contact": {...}, "address": {...} | None,
     "addressId": int | None, "individuals": {"<id>": {...}}}
    """
    if not isinstance(raw, dict):
        raise UnplannableError("?", f"the API answered a {type(raw).__name__}, not a contact")
    contact_id = normalize_value("integer", raw.get("id"))
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        raise UnplannableError(raw.get("id"), "the record has no usable id")
    address = _mapping(raw.get("address"), "address", contact_id)
    individuals = {}
    for item in _items(raw.get("contactIndividuals"), "contactIndividuals", contact_id):
        individuals[_item_id(item, "an individual", contact_id)] = canonical_individual(item, contact_id)
    archived = normalize_value("boolean", raw.get("isArchived"))
    return {
        "id": contact_id,
        "isArchived": bool(archived) if isinstance(archived, bool) else False,
        "modifiedDateTimeUtc": normalize_timestamp(raw.get("modifiedDateTimeUtc")),
        "contact": canonical_contact_doc(raw, contact_id),
        "addressId": int(_item_id(address, "the primary address", contact_id)) if address else None,
        "address": canonical_address(address) if address else None,
        "individuals": individuals,
    }


def natural(resource: str, raw: dict) -> dict[str, Any]:
    """A raw record as a PUT must send it: writable fields in their natural types, read-only
    fields left out (the API ignores them), fields the typing does not know passed through
    as they came (leaving them out could clear them under replace semantics).

    Values the typing cannot convert are passed through unchanged, so a record is never
    silently altered; the API will reject what it cannot take.
    """
    out: dict[str, Any] = {}
    writable, known = model.writable(resource), model.fields(resource)
    for name, value in raw.items():
        f = writable.get(name)
        if f is None:
            if name not in known:
                out[name] = value
            continue
        if f.kind == "array" and f.item and isinstance(value, list):
            out[name] = [natural_item(f.item, v) if isinstance(v, dict) else v for v in value]
        elif f.kind == "object" and f.item and isinstance(value, dict):
            out[name] = natural_item(f.item, value)
        elif f.kind in ("array", "object"):
            out[name] = value
        else:
            converted = normalize_value(f.kind, value)
            # An empty text field goes back as it came; an empty boolean or number becomes null.
            textual = f.kind in ("string", "date", "datetime", "money")
            out[name] = value if converted is None and textual else converted
    return out


def natural_item(resource: str, raw: dict) -> dict[str, Any]:
    """`natural` plus the item's id, which identifies it inside a list that a PUT replaces."""
    out = natural(resource, raw)
    if raw.get("id") is not None and "id" not in out:  # a reference's id is data, not identity
        out["id"] = normalize_value("integer", raw["id"])
    return out
