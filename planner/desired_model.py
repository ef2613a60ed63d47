"""What loading a desired-state file produces, and which keys the format allows where.

The result is frozen and hashable; the allowed keys and their types are derived from
planner.model, so the loader, schemas/desired.schema.json and the live typing cannot drift.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from planner import model
from planner.errors import DesiredStateError, PlannerError
from planner.yamlsafe import quote


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
# Fields a section may not set although the resource has them: `address` always edits the
# primary address, so clearing its isPrimary would leave the contact without one.
FIXED = {"ContactAddress": ("isPrimary",)}
NOT_YET = {
    "Contact": ("customCollections", "tags", "organizationGroups"),
    "ContactIndividual": ("customFields",),
}


@lru_cache(maxsize=1)
def allowed_keys() -> dict[str, frozenset[str]]:
    """The keys each place of the format accepts (the schema test compares these)."""
    return {
        "contact": frozenset(CONTACT_KEYS) | frozenset(scalar_fields("Contact")),
        "address": frozenset(scalar_fields("ContactAddress")) - frozenset(FIXED["ContactAddress"]),
        "individual": frozenset(INDIVIDUAL_KEYS) | frozenset(scalar_fields("ContactIndividual")),
        "individualMatch": frozenset(scalar_fields("ContactIndividual")),
        "method": frozenset(METHOD_KEYS) | frozenset(scalar_fields("ContactMethod")),
        "methodMatch": frozenset(scalar_fields("ContactMethod")),
        "reference": frozenset(REFERENCE_KEYS),
        "find": frozenset(k for form in FIND_FORMS for k in form),
    }
