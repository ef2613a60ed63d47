"""The operations a plan is made of, and the Plan itself.

Operations are a small closed set of frozen dataclasses. Each names the resource it writes,
the field changes (before and after values, which are also the guard checked at apply time)
and why it is needed. Renderers and the executor interpret them; neither is known here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import jsonpointer

ADD, UPDATE, REMOVE = "add", "update", "remove"


@dataclass(frozen=True)
class FieldChange:
    """One changed field or item of a resource document, with the value the plan saw."""

    path: tuple[str, ...]  # inside the resource document, e.g. ("customFields", "Giving Tier")
    label: str  # how a reviewer reads the path, e.g. 'customFields["Giving Tier"]'
    action: str  # add | update | remove
    before: Any = None  # None for additions
    after: Any = None  # None for removals

    @property
    def pointer(self) -> str:
        return "".join("/" + jsonpointer.escape(part) for part in self.path)

    def patch(self) -> list[dict]:
        """This change as RFC 6902 operations; `test` holds the value the plan saw."""
        if self.action == ADD:
            return [{"op": "add", "path": self.pointer, "value": self.after}]
        test = {"op": "test", "path": self.pointer, "value": self.before}
        if self.action == REMOVE:
            return [test, {"op": "remove", "path": self.pointer}]
        return [test, {"op": "replace", "path": self.pointer, "value": self.after}]


@dataclass(frozen=True)
class Operation:
    """One request apply will make for one contact."""

    kind: ClassVar[str] = "operation"
    method: ClassVar[str] = "PUT"
    contact_id: int
    changes: tuple[FieldChange, ...]
    reason: str

    @property
    def resource_id(self) -> int:
        return self.contact_id

    @property
    def path(self) -> str:
        raise NotImplementedError

    @property
    def writes_body(self) -> bool:
        """Whether apply sends a full record (after a fresh GET) or calls a bodiless endpoint."""
        return True

    def patch(self) -> list[dict]:
        return [op for change in self.changes for op in change.patch()]


@dataclass(frozen=True)
class Unarchive(Operation):
    """Bring an archived contact back, before any other write to it."""

    kind: ClassVar[str] = "unarchive"

    @property
    def path(self) -> str:
        return f"/api/Contact/Unarchive/{self.contact_id}"

    @property
    def writes_body(self) -> bool:
        return False


@dataclass(frozen=True)
class PutContact(Operation):
    """Full-record PUT of the Contact's own fields, custom fields and references."""

    kind: ClassVar[str] = "put_contact"

    @property
    def path(self) -> str:
        return f"/api/Contact/{self.contact_id}"


@dataclass(frozen=True)
class PutIndividual(Operation):
    """Full-record PUT of one ContactIndividual, with its contact methods."""

    kind: ClassVar[str] = "put_individual"
    individual_id: int = 0

    @property
    def resource_id(self) -> int:
        return self.individual_id

    @property
    def path(self) -> str:
        return f"/api/ContactIndividual/{self.individual_id}"


@dataclass(frozen=True)
class PutAddress(Operation):
    """Full-record PUT of the primary ContactAddress."""

    kind: ClassVar[str] = "put_address"
    address_id: int = 0

    @property
    def resource_id(self) -> int:
        return self.address_id

    @property
    def path(self) -> str:
        return f"/api/ContactAddress/{self.address_id}"


@dataclass(frozen=True)
class Archive(Operation):
    """Archive a contact, after every other write to it."""

    kind: ClassVar[str] = "archive"

    @property
    def path(self) -> str:
        return f"/api/Contact/Archive/{self.contact_id}"

    @property
    def writes_body(self) -> bool:
        return False


OPERATION_KINDS: dict[str, type[Operation]] = {
    cls.kind: cls for cls in (Unarchive, PutContact, PutIndividual, PutAddress, Archive)
}
# Dependency order inside one contact: a PUT of the Contact carries its individuals and
# address, so it goes before their own PUTs, each of which starts from a fresh GET.
ORDER = {"unarchive": 0, "put_contact": 1, "put_individual": 2, "put_address": 3, "archive": 4}


@dataclass(frozen=True)
class ContactPlan:
    """What apply must do to one contact, and the live state it was planned against."""

    contact_id: int
    name: str | None
    file: str
    live: dict = field(compare=False, repr=False)  # canonical live record (read, never mutated)
    operations: tuple[Operation, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.operations)

    def requests_to_apply(self) -> int:
        """Requests apply spends: a guard GET, a fresh GET and a PUT per record write, one
        call per archive transition, and the verifying GET."""
        if not self.operations:
            return 0
        writes = sum(2 if op.writes_body else 1 for op in self.operations)
        return 1 + writes + 1


@dataclass(frozen=True)
class Unplannable:
    """A contact whose live record could not be read completely; it is never written."""

    file: str
    contact_id: Any
    reason: str


@dataclass(frozen=True)
class Plan:
    """The ordered contact plans of one run; empty when nothing needs to change."""

    contacts: tuple[ContactPlan, ...]
    sources: tuple[tuple[str, str], ...] = ()  # (file, sha256)
    unplannable: tuple[Unplannable, ...] = ()

    @property
    def changed(self) -> tuple[ContactPlan, ...]:
        return tuple(c for c in self.contacts if c.changed)

    @property
    def unchanged(self) -> tuple[ContactPlan, ...]:
        return tuple(c for c in self.contacts if not c.changed)

    @property
    def is_empty(self) -> bool:
        return not self.changed

    def requests_to_apply(self) -> int:
        return sum(c.requests_to_apply() for c in self.contacts)
