"""The one error root of planner, its user-facing kinds, and the exit codes they map to."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class ExitStatus(enum.IntEnum):
    """Process exit codes, the same for every command."""

    SUCCESS = 0
    ERROR = 1
    CHANGES_PRESENT = 2  # only with --detailed-exitcode
    STALE_PLAN = 3


class PlannerError(Exception):
    """Root of every error planner reports to a user; never carries a token."""

    exit_status: ExitStatus = ExitStatus.ERROR

    def one_line(self) -> str:
        return str(self)


class ConfigError(PlannerError):
    """A bad option, environment variable or configuration value."""


@dataclass
class FieldDetail:
    """One field-level message from an API validation error."""

    field: str | None
    code: str | None
    message: str


class DesiredStateError(PlannerError):
    """A desired-state file that cannot be used; names the file and the path inside it."""

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = file
        self.path = path or "(top)"
        self.message = message
        super().__init__(f"{file}: {self.path}: {message}")


class PlanFileError(PlannerError):
    """A saved plan file that is unreadable, edited or truncated."""


class ApiError(PlannerError):
    """An HTTP answer the API gave as an error, in any of its three shapes."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        code: str | None = None,
        details: list[FieldDetail] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details or [])
        self.method = method
        self.path = path
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        status = f"HTTP {self.status}" if self.status is not None else "no answer"
        code = f" {self.code}" if self.code else ""
        text = f"{where}{status}{code}: {self.message}"
        if self.details:
            text += " (" + "; ".join(
                f"{d.field}: {d.message}" if d.field else d.message for d in self.details
            ) + ")"
        return text


class TransportError(ApiError):
    """No usable answer: connection refused or dropped, timeout, retries exhausted."""


class NotFoundError(ApiError):
    """HTTP 404: the resource does not exist (merged or deleted?)."""


@dataclass
class Staleness:
    """One guarded value that changed since the plan was made (refusing is an outcome, exit 3,
    not an exception: the executor returns these as data)."""

    contact_id: int
    field: str
    planned_from: Any
    current: Any
