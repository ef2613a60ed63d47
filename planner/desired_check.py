"""The validation walk over one parsed desired-state file: every error, one line each.

Collects errors rather than stopping at the first, so `planner validate` can list them all.
"""
from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Sequence
from typing import Any

from planner import model
from planner.desired_model import (FIND_FORMS, FIXED, NOT_YET, REFERENCE_KEYS, DesiredContact,
                                   FrozenMap, IndividualSpec, MethodSpec, ReferenceSpec,
                                   allowed_keys, scalar_fields)
from planner.errors import DesiredStateError
from planner.yamlsafe import Node, format_path, quote

MAX_ERRORS_PER_FILE = 50


# --- validation of the node tree ------------------------------------------------------------

_BAD = object()  # a value that failed validation (already reported)
_KIND_WORDS = {"string": "a string", "integer": "an integer", "boolean": "true or false",
               "date": "a date (YYYY-MM-DD)", "datetime": "a timestamp", "money": "a string"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _show(text: Any, limit: int = 60) -> str:
    text = str(text)
    return quote(text if len(text) <= limit else text[:limit] + "...")


_LABELS = {"Contact": "the contact", "ContactIndividual": "an individual",
           "ContactAddress": "an address", "ContactMethod": "a contact method"}
_READ_ONLY_HINTS = {
    ("ContactAddress", "id"): "; `address` always edits the contact's primary address",
    ("ContactMethod", "id"): "; select the method with `match:`",
}


def _suggest(key: str, valid: Sequence[str], resource: str | None) -> str:
    """A "did you mean" for a misspelt key, or where a field of another resource belongs."""
    valid = sorted(valid)  # deterministic suggestions whatever the set order
    close = difflib.get_close_matches(key, valid, n=1) or [
        v for v in valid if v.lower() == key.lower()][:1]
    if close:
        return f"; did you mean `{close[0]}`?"
    for other, label in _LABELS.items():
        if other != resource and key in scalar_fields(other):
            return f"; `{key}` is a field of {label}"
    return ""


class Check:
    """One file's validation walk; collects errors rather than stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DesiredStateError] = []
        self.hidden = 0
        self.key_nodes: dict[int, Node] = {}  # id(value node) -> its key node

    def fail(self, parts: tuple, message: str, node: Node | None = None) -> Any:
        if len(self.errors) >= MAX_ERRORS_PER_FILE:
            self.hidden += 1  # a file of 100,000 bad items must not cost 100,000 messages
            return _BAD
        if node is not None:
            message += f" (line {node.line})"
        self.errors.append(DesiredStateError(self.file, format_path(parts), message))
        return _BAD

    def pairs(self, node: Node, parts: tuple, what: str) -> list[tuple[str, Node]] | None:
        if node.kind != "map":
            self.fail(parts, f"expected {what}, got {node.describe()}", node)
            return None
        out = []
        for key, value in node.items:
            if isinstance(key.value, str):
                out.append((key.value, value))
                self.key_nodes[id(value)] = key  # a misplaced key is reported at its own line
            else:
                self.fail(parts, f"keys must be strings; quote {_show(key.raw)}", key)
        return out

    def unknown(self, parts: tuple, key: str, node: Node, valid: Sequence[str],
                resource: str | None = None, matching: bool = False) -> None:
        where = parts + (key,)
        node = self.key_nodes.get(id(node), node)
        if matching and key == "id":
            hint = ("write `id:` beside `match:`, not inside it" if resource == "ContactIndividual"
                    else f"match on {', '.join(sorted(valid))}")
            self.fail(where, f"cannot match on `id`; {hint}", node)
        elif resource and key in model.read_only(resource):
            hint = _READ_ONLY_HINTS.get((resource, key), "")
            verb = "matched on" if matching else "set"
            self.fail(where, f"`{key}` is read-only and cannot be {verb}{hint}", node)
        elif resource and not matching and key in FIXED.get(resource, ()):
            self.fail(where, f"`{key}` cannot be set here: `address` always edits the contact's "
                      "primary address (choose which address is primary in CRM+)", node)
        elif resource and key in NOT_YET.get(resource, ()):
            self.fail(where, f"`{key}` is not supported yet by planner; remove it (the live "
                      "value is kept)", node)
        elif key == "absent":
            self.fail(where, "`absent` is only allowed on contactReferences and contactMethods "
                      "items", node)
        else:
            self.fail(where, f"unknown field {_show(key)}{_suggest(key, valid, resource)}", node)

    def value(self, node: Node, fld: model.Field, parts: tuple, nullable: bool = True) -> Any:
        kind, want = fld.kind, _KIND_WORDS.get(fld.kind, fld.kind)
        if node.kind != "scalar":
            return self.fail(parts, f"expected {want}, got {node.describe()}", node)
        v = node.value
        if v is None:
            if fld.nullable and nullable:
                return None
            return self.fail(parts, f"expected {want}, got null", node)
        if kind == "boolean":
            if isinstance(v, bool):
                return v
            if isinstance(v, str) and v.lower() in ("true", "false", "yes", "no", "on", "off"):
                return self.fail(parts, f"expected true or false, got the string {_show(v)}; "
                                 "remove the quotes", node)
            return self.fail(parts, f"expected true or false, got {node.describe()}", node)
        if kind == "integer":
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                return self.fail(parts, f"expected an integer, got the string {_show(v)}; "
                                 "remove the quotes", node)
            return self.fail(parts, f"expected an integer, got {node.describe()}", node)
        if kind == "date":
            if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
                return v.isoformat()
            if isinstance(v, str) and _ISO_DATE.fullmatch(v):
                try:
                    return datetime.date.fromisoformat(v).isoformat()
                except ValueError:
                    return self.fail(parts, f"invalid date {_show(v)}", node)
            return self.fail(parts, f"expected a date like 2026-11-02, got {node.describe()}",
                             node)
        if isinstance(v, str):
            return v
        return self.fail(parts, f"expected a string, got {node.describe()}; quote it: "
                         f"{_show(node.raw)}", node)

    def text(self, node: Node, parts: tuple, what: str = "a string") -> Any:
        """A required, non-empty string (identities: reference source/id, find values)."""
        v = node.value if node.kind == "scalar" else _BAD
        if isinstance(v, str) and v.strip():
            return v
        if isinstance(v, str) or v is None:
            return self.fail(parts, f"expected {what}, got an empty value", node)
        hint = f"; quote it: {_show(node.raw)}" if node.kind == "scalar" else ""
        return self.fail(parts, f"expected {what}, got {node.describe()}{hint}", node)

    def flag(self, node: Node, parts: tuple) -> Any:
        return self.value(node, model.Field("flag", "boolean", nullable=False), parts)

    def positive_id(self, node: Node, parts: tuple) -> Any:
        v = self.value(node, model.Field("id", "integer", nullable=False), parts)
        if v is not _BAD and v <= 0:
            return self.fail(parts, f"expected a positive integer id, got {v}", node)
        return v

    def document(self, root: Node, sha256: str) -> DesiredContact | None:
        if root.kind == "scalar" and root.value is None:
            self.fail((), "the document is empty; expected `contact:`", root)
            return None
        pairs = self.pairs(root, (), "a mapping with `contact:` at the top")
        if pairs is None:
            return None
        contact = None
        for key, node in pairs:
            if key == "contact":
                contact = self.contact(node, sha256)
            elif key in allowed_keys()["contact"]:
                self.fail((key,), f"`{key}` belongs under `contact:`; indent it beneath that "
                          "key", node)
            else:
                self.unknown((), key, node, ("contact",))
        if not any(key == "contact" for key, _ in pairs):
            self.fail((), "missing the top-level `contact:` mapping", root)
        return contact

    def contact(self, node: Node, sha256: str) -> DesiredContact | None:
        parts = ("contact",)
        pairs = self.pairs(node, parts, "a mapping of contact fields")
        if pairs is None:
            return None
        scalars = scalar_fields("Contact")
        got: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for key, value in pairs:
            here = parts + (key,)
            if key == "id":
                got[key] = self.positive_id(value, here)
            elif key == "find":
                got[key] = self.find(value, here)
            elif key == "isArchived":
                got[key] = self.flag(value, here)
            elif key == "customFields":
                got[key] = self.custom_fields(value, here)
            elif key == "contactReferences":
                got[key] = self.items(value, here, "references", self.reference, _ref_key)
            elif key == "address":
                got[key] = self.scalars(value, here, "ContactAddress", "address fields")
            elif key == "contactIndividuals":
                got[key] = self.items(value, here, "individuals", self.individual, _ind_key)
            elif key in scalars:
                fields[key] = self.value(value, scalars[key], here)
            else:
                self.unknown(parts, key, value, allowed_keys()["contact"], "Contact")
        if ("id" in got) == ("find" in got):
            self.fail(parts, "has both `id` and `find`; give exactly one" if "id" in got else
                      "needs `id` or `find` to say which contact this is", node)
        if self.errors or _BAD in fields.values() or _BAD in got.values():
            return None
        return DesiredContact(
            file=self.file, sha256=sha256, id=got.get("id"), find=got.get("find"),
            fields=FrozenMap(fields), is_archived=got.get("isArchived"),
            custom_fields=got.get("customFields", FrozenMap()),
            references=got.get("contactReferences", ()), address=got.get("address"),
            individuals=got.get("contactIndividuals", ()))

    def find(self, node: Node, parts: tuple) -> Any:
        pairs = self.pairs(node, parts, "a mapping like {email: ...} or "
                           "{referenceSource: ..., referenceId: ...}")
        if pairs is None:
            return _BAD
        keys = [k for k, _ in pairs]
        valid = [k for form in FIND_FORMS for k in form]
        for key, value in pairs:
            if key not in valid:
                self.unknown(parts, key, value, valid)
        if sorted(keys) not in (sorted(form) for form in FIND_FORMS):
            return self.fail(parts, "expected exactly {email: ...} or {referenceSource: ..., "
                             "referenceId: ...}", node)
        out = {k: self.text(v, parts + (k,)) for k, v in pairs}
        return _BAD if _BAD in out.values() else FrozenMap(out)

    def custom_fields(self, node: Node, parts: tuple) -> Any:
        pairs = self.pairs(node, parts, "a mapping of custom field names to values")
        if pairs is None:
            return _BAD
        out: dict[str, Any] = {}
        for name, value in pairs:
            here = parts + (name,)
            if not name.strip():
                self.fail(here, "a custom field name must not be empty", value)
            v = value.value if value.kind == "scalar" else _BAD
            if v is None or isinstance(v, str):
                out[name] = v
            elif isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
                out[name] = v.isoformat()
            else:
                hint = f"; quote it: {_show(value.raw)}" if value.kind == "scalar" else ""
                self.fail(here, "expected a string (custom field values are strings) or null, "
                          f"got {value.describe()}{hint}", value)
        return FrozenMap(out)

    def scalars(self, node: Node, parts: tuple, resource: str, what: str,
                matching: bool = False) -> Any:
        pairs = self.pairs(node, parts, f"a mapping of {what}")
        if pairs is None:
            return _BAD
        valid = scalar_fields(resource)
        if not matching:
            valid = {k: f for k, f in valid.items() if k not in FIXED.get(resource, ())}
        out = {}
        for key, value in pairs:
            if key in valid:
                out[key] = self.value(value, valid[key], parts + (key,))
            else:
                self.unknown(parts, key, value, list(valid), resource, matching)
        if _BAD in out.values():
            return _BAD
        return FrozenMap(out)

    def match(self, node: Node, parts: tuple, resource: str) -> Any:
        if node.kind == "map" and not node.items:
            return self.fail(parts, "an empty match selects nothing; name at least one field",
                             node)
        return self.scalars(node, parts, resource, "fields to match", matching=True)

    def items(self, node: Node, parts: tuple, what: str, check: Any, key_of: Any) -> Any:
        if node.kind != "seq":
            return self.fail(parts, f"expected a list of {what}, got {node.describe()}", node)
        out, seen = [], {}
        for index, item in enumerate(node.items):
            spec = check(item, parts + (index,))
            if spec is _BAD or spec is None:
                continue
            key = key_of(spec)
            if key in seen:
                self.fail(parts + (index,), f"the same item as {seen[key]} (one entry per "
                          "item)", item)
            seen.setdefault(key, spec.path)
            out.append(spec)
        return tuple(out)

    def reference(self, node: Node, parts: tuple) -> Any:
        pairs = self.pairs(node, parts, "a mapping like {source: ..., id: ...}")
        if pairs is None:
            return _BAD
        got: dict[str, Any] = {}
        for key, value in pairs:
            if key in ("source", "id"):
                got[key] = self.text(value, parts + (key,))
            elif key == "absent":
                got[key] = self.flag(value, parts + (key,))
            else:
                self.unknown(parts, key, value, REFERENCE_KEYS)
        missing = [k for k in ("source", "id") if k not in got]
        if missing:
            return self.fail(parts, "a reference needs both `source` and `id`", node)
        if _BAD in got.values():
            return _BAD
        return ReferenceSpec(format_path(parts), got["source"], got["id"],
                             bool(got.get("absent", False)))

    def individual(self, node: Node, parts: tuple) -> Any:
        pairs = self.pairs(node, parts, "a mapping selecting one individual (id or match)")
        if pairs is None:
            return _BAD
        scalars = scalar_fields("ContactIndividual")
        got: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for key, value in pairs:
            here = parts + (key,)
            if key == "id":
                got[key] = self.positive_id(value, here)
            elif key == "match":
                got[key] = self.match(value, here, "ContactIndividual")
            elif key == "contactMethods":
                got[key] = self.items(value, here, "contact methods", self.method, _method_key)
            elif key in scalars:
                fields[key] = self.value(value, scalars[key], here)
            else:
                self.unknown(parts, key, value, allowed_keys()["individual"], "ContactIndividual")
        if ("id" in got) == ("match" in got):
            return self.fail(parts, "has both `id` and `match`; give exactly one" if "id" in got
                             else "needs `id` or `match` to select an existing individual", node)
        if _BAD in got.values() or _BAD in fields.values():
            return _BAD
        return IndividualSpec(format_path(parts), got.get("id"), got.get("match"),
                              FrozenMap(fields), got.get("contactMethods", ()))

    def method(self, node: Node, parts: tuple) -> Any:
        pairs = self.pairs(node, parts, "a mapping for one contact method")
        if pairs is None:
            return _BAD
        scalars = scalar_fields("ContactMethod")
        match, absent, fields = None, False, {}
        for key, value in pairs:
            here = parts + (key,)
            if key == "match":
                match = self.match(value, here, "ContactMethod")
            elif key == "absent":
                absent = self.flag(value, here)
            elif key in scalars:
                fields[key] = self.value(value, scalars[key], here)
            else:
                self.unknown(parts, key, value, allowed_keys()["method"], "ContactMethod")
        if match is _BAD or absent is _BAD or _BAD in fields.values():
            return _BAD
        if match is None:
            if "type" not in fields or "value" not in fields:
                return self.fail(parts, "a method without `match` needs both `type` and "
                                 "`value` (its identity)", node)
            for key in ("type", "value"):
                if fields[key] is None or not str(fields[key]).strip():
                    return self.fail(parts + (key,), f"`{key}` identifies the method and must "
                                     "not be empty", node)
        extra = set(fields) - ({"type", "value"} if match is None else set())
        if absent and extra:
            return self.fail(parts, "an absent method takes no fields to set (only `match`, or "
                             f"`type` and `value`); remove {', '.join(sorted(extra))}", node)
        return MethodSpec(format_path(parts), match, FrozenMap(fields), bool(absent))


def _ref_key(spec: ReferenceSpec) -> tuple:
    return (spec.source, spec.id)


def _ind_key(spec: IndividualSpec) -> tuple:
    return ("id", spec.id) if spec.id is not None else ("match", spec.match)


def _method_key(spec: MethodSpec) -> tuple:
    if spec.match is not None:
        return ("match", spec.match)
    return ("identity", spec.fields["type"], spec.fields["value"])
