"""Load and validate desired-state files: YAML in, typed frozen desired contacts out.

Every problem becomes a DesiredStateError `FILE: PATH: message` (one line, with the line number
when known). Which fields are allowed where, and their types, come from planner.model, so the
loader, schemas/desired.schema.json (checked by a test) and the live typing cannot drift.
"""
from __future__ import annotations

import datetime
import difflib
import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from planner import model
from planner.errors import DesiredStateError, PlannerError
from planner.yamlsafe import (Node, YamlProblem, compose, decode, format_path, quote,
                              read_limited)

MAX_ERRORS_PER_FILE = 50
YAML_SUFFIXES = (".yaml", ".yml")


class FrozenMap(Mapping):
    """A read-only, hashable mapping that keeps the file's order (equal to a dict with its items)."""

    __slots__ = ("_data",)

    def __init__(self, items: Any = ()) -> None:
        object.__setattr__(self, "_data", dict(items))

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is read-only")

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


@dataclass(frozen=True)
class MethodSpec:
    """One item of an individual's contactMethods: select (match) or identify (type, value)."""

    path: str
    match: Mapping[str, Any] | None
    fields: Mapping[str, Any]
    absent: bool = False


@dataclass(frozen=True)
class IndividualSpec:
    """One existing individual, selected by id or match, with the fields and methods to set."""

    path: str
    id: int | None
    match: Mapping[str, Any] | None
    fields: Mapping[str, Any]
    methods: tuple[MethodSpec, ...]


@dataclass(frozen=True)
class ReferenceSpec:
    """A contact reference ensured present (or absent), identified by (source, id)."""

    path: str
    source: str
    id: str
    absent: bool = False


@dataclass(frozen=True)
class DesiredContact:
    """The desired state of one contact, as one file states it."""

    file: str
    sha256: str
    id: int | None
    find: Mapping[str, str] | None
    fields: Mapping[str, Any]
    is_archived: bool | None
    custom_fields: Mapping[str, str | None]
    references: tuple[ReferenceSpec, ...]
    address: Mapping[str, Any] | None
    individuals: tuple[IndividualSpec, ...]

    def identity(self) -> tuple:
        """Which contact the file is about, for "two files for one contact" detection."""
        if self.id is not None:
            return ("id", self.id)
        assert self.find is not None
        if "email" in self.find:
            return ("email", self.find["email"].strip().casefold())
        return ("reference", self.find["referenceSource"], self.find["referenceId"])

    def describe(self) -> str:
        ident = self.identity()
        if ident[0] == "id":
            return f"contact {ident[1]}"
        if ident[0] == "email":
            return f"the contact with email {quote(self.find['email'])}"  # type: ignore[index]
        return f"the contact with reference {quote(ident[1])}/{quote(ident[2])}"


class DesiredStateErrors(PlannerError):
    """Several desired-state problems at once; each is one line `FILE: PATH: message`."""

    def __init__(self, errors: Sequence[DesiredStateError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def one_line(self) -> str:
        more = len(self.errors) - 1
        return str(self.errors[0]) + (f" (and {more} more error{'s' * (more > 1)})" if more else "")


# --- which keys are allowed where (all derived from planner.model) --------------------------

@lru_cache(maxsize=None)
def scalar_fields(resource: str) -> dict[str, model.Field]:
    """Writable fields of a resource a desired file may set directly (not arrays or objects)."""
    return {n: f for n, f in model.writable(resource).items() if f.kind not in ("object", "array")}


CONTACT_KEYS = ("id", "find", "isArchived", "customFields", "contactReferences", "address",
                "contactIndividuals")
INDIVIDUAL_KEYS = ("id", "match", "contactMethods")
METHOD_KEYS = ("match", "absent")
REFERENCE_KEYS = ("source", "id", "absent")
FIND_FORMS = (("email",), ("referenceSource", "referenceId"))
NOT_YET = {
    "Contact": ("customCollections", "tags", "organizationGroups"),
    "ContactIndividual": ("customFields",),
}


@lru_cache(maxsize=1)
def allowed_keys() -> dict[str, frozenset[str]]:
    """The keys each place of the format accepts (the schema test compares these)."""
    return {
        "contact": frozenset(CONTACT_KEYS) | frozenset(scalar_fields("Contact")),
        "address": frozenset(scalar_fields("ContactAddress")),
        "individual": frozenset(INDIVIDUAL_KEYS) | frozenset(scalar_fields("ContactIndividual")),
        "individualMatch": frozenset(scalar_fields("ContactIndividual")),
        "method": frozenset(METHOD_KEYS) | frozenset(scalar_fields("ContactMethod")),
        "methodMatch": frozenset(scalar_fields("ContactMethod")),
        "reference": frozenset(REFERENCE_KEYS),
        "find": frozenset(k for form in FIND_FORMS for k in form),
    }


# --- discovery ------------------------------------------------------------------------------

def _discover(paths: Sequence[str]) -> tuple[list[str], list[DesiredStateError]]:
    found: list[str] = []
    errors: list[DesiredStateError] = []
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            here = []
            for root, dirs, names in os.walk(given):
                dirs.sort()
                here += [os.path.join(root, n) for n in names if n.lower().endswith(YAML_SUFFIXES)]
            if not here:
                errors.append(DesiredStateError(given, "", "no *.yaml or *.yml files in this "
                                                "directory (searched recursively)"))
            candidates = sorted(here)
        elif os.path.isfile(given):
            candidates = [given]
        elif os.path.exists(given):
            errors.append(DesiredStateError(given, "", "not a regular file or a directory"))
            continue
        else:
            errors.append(DesiredStateError(given, "", "no such file or directory"))
            continue
        for path in candidates:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(path)
    return found, errors


def discover(paths: Sequence[str]) -> list[str]:
    """Desired-state files under `paths`: *.yaml/*.yml found recursively in directories, sorted;
    a path naming a file is taken as is. Raises DesiredStateError for a missing path or a
    directory without YAML files."""
    found, errors = _discover(paths)
    if errors:
        raise errors[0]
    return found


# --- loading --------------------------------------------------------------------------------

def check_bytes(data: bytes | None, file: str) -> tuple[DesiredContact | None,
                                                      list[DesiredStateError]]:
    """The contact a file's content describes and every error in it (contact None on errors);
    with `data` None the file is read (size-limited) first."""
    try:
        if data is None:
            data = read_limited(file)
        root = compose(decode(data))
    except YamlProblem as problem:
        return None, [DesiredStateError(file, format_path(problem.path), problem.located())]
    except OSError as exc:
        return None, [DesiredStateError(file, "", f"cannot read: {exc.strerror or exc}")]
    if root is None:
        empty = not data.strip(b" \t\r\n\xef\xbb\xbf")
        return None, [DesiredStateError(file, "", "the file is empty" if empty else
                                        "the file holds only comments; expected `contact:`")]
    check = _Check(file)
    contact = check.document(root, hashlib.sha256(data).hexdigest())
    errors = check.errors
    if check.hidden:
        errors.append(DesiredStateError(file, "", f"{check.hidden} more errors not shown"))
    return (None if errors else contact), errors


def load_bytes(data: bytes, file: str) -> DesiredContact:
    """Validate the content of a desired-state file; `file` names it in messages."""
    contact, errors = check_bytes(data, file)
    if errors:
        raise errors[0]
    assert contact is not None
    return contact


def load_file(path: str) -> DesiredContact:
    """Read and validate one desired-state file; raises its first DesiredStateError."""
    contact, errors = check_bytes(None, path)
    if errors:
        raise errors[0]
    assert contact is not None
    return contact


def validate_paths(paths: Sequence[str]) -> tuple[list[DesiredContact], list[DesiredStateError]]:
    """Every valid contact and every error under `paths` (offline: no request, no token)."""
    files, errors = _discover(paths)
    contacts: list[DesiredContact] = []
    owners: dict[tuple, DesiredContact] = {}
    for path in files:
        contact, problems = check_bytes(None, path)
        errors += problems
        if contact is None:
            continue
        first = owners.get(contact.identity())
        if first is not None:
            where = "contact.id" if contact.id is not None else "contact.find"
            errors.append(DesiredStateError(path, where, f"{contact.describe()} is also described "
                                            f"by {first.file}; keep one file per contact"))
            continue
        owners[contact.identity()] = contact
        contacts.append(contact)
    return contacts, errors


def load_paths(paths: Sequence[str]) -> list[DesiredContact]:
    """All desired contacts under `paths`; raises DesiredStateErrors listing every problem."""
    contacts, errors = validate_paths(paths)
    if errors:
        raise DesiredStateErrors(errors)
    return contacts


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


class _Check:
    """One file's validation walk; collects errors rather than stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DesiredStateError] = []
        self.hidden = 0

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
            else:
                self.fail(parts, f"keys must be strings; quote {_show(key.raw)}", key)
        return out

    def unknown(self, parts: tuple, key: str, node: Node, valid: Sequence[str],
                resource: str | None = None, matching: bool = False) -> None:
        where = parts + (key,)
        if matching and key == "id":
            hint = ("write `id:` beside `match:`, not inside it" if resource == "ContactIndividual"
                    else f"match on {', '.join(sorted(valid))}")
            self.fail(where, f"cannot match on `id`; {hint}", node)
        elif resource and key in model.read_only(resource):
            hint = _READ_ONLY_HINTS.get((resource, key), "")
            verb = "matched on" if matching else "set"
            self.fail(where, f"`{key}` is read-only and cannot be {verb}{hint}", node)
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
