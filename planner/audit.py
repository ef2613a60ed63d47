"""The audit trail: one JSON Lines record per apply, written as it happens, meant for git.

Each line is a complete JSON object, appended and fsynced before the next request starts, so
a crash leaves a truthful, parseable record of what was done. Records never hold a token.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import jsonpatch

from planner import __version__
from planner.errors import ApiError, PlannerError
from planner.ops import FieldChange, Operation

SUFFIX = ".jsonl"


class AuditError(PlannerError):
    """An audit directory or record that cannot be used."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def who(cwd: Path | None = None) -> str:
    """The committer's git email, or the OS user."""
    email = _git(["config", "user.email"], cwd or Path.cwd())
    if email:
        return email
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def git_state(files: Sequence[str]) -> tuple[str | None, bool | None]:
    """(commit of HEAD, whether any desired file differs from it) for the desired files."""
    folder = Path(files[0]).resolve().parent if files else Path.cwd()
    commit = _git(["rev-parse", "HEAD"], folder)
    if commit is None:
        return None, None
    status = _git(["status", "--porcelain", "--", *[str(Path(f).resolve()) for f in files]], folder)
    return commit, bool(status)


class AuditLog:
    """Writes one apply's audit record; used as the executor's observer."""

    def __init__(self, directory: str | Path, *, plan_checksum: str, files: Sequence[str],
                 api_url: str) -> None:
        self.run_id = secrets.token_hex(4)
        self.started = utc_now()
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditError(f"{directory}: cannot create the audit directory: {exc.strerror}") from None
        self.path = self.directory / f"{self.started:%Y%m%dT%H%M%SZ}-{self.run_id}{SUFFIX}"
        commit, dirty = git_state(files)
        self._append({
            "type": "run", "run_id": self.run_id, "who": who(),
            "started_utc": self.started.isoformat(timespec="seconds"),
            "tool_version": __version__, "git_commit": commit, "git_dirty": dirty,
            "desired_files": sorted(files), "plan_sha256": plan_checksum, "api_url": api_url,
        })

    def _append(self, entry: dict) -> None:
        line = json.dumps(entry, ensure_ascii=False, sort_keys=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def on_write(self, contact_id: int, op: Operation, status: int | None,
                 before: dict | None, after: dict | None, error: ApiError | None) -> None:
        entry: dict[str, Any] = {
            "type": "write", "at_utc": utc_now().isoformat(timespec="milliseconds"),
            "contact_id": contact_id, "kind": op.kind, "method": op.method, "path": op.path,
            "resource_id": op.resource_id, "status": status,
            "changes": [{"label": c.label, "path": list(c.path), "action": c.action,
                         "before": c.before, "after": c.after} for c in op.changes],
            "before": before, "after": after,
        }
        if before is not None and after is not None:
            entry["patch"] = jsonpatch.make_patch(before, after).patch
        if error is not None:
            entry["error"] = {"status": error.status, "code": error.code, "message": error.message,
                              "details": [vars(d) for d in error.details]}
        self._append(entry)

    def on_verified(self, contact_id: int, outcome: Any) -> None:
        self._append({
            "type": "verify", "at_utc": utc_now().isoformat(timespec="milliseconds"),
            "contact_id": contact_id, "status": outcome.status,
            "remaining": [{"path": op.path, "changes": [c.label for c in op.changes]}
                          for op in outcome.remaining],
            "error": outcome.error.one_line() if outcome.error is not None else None,
            "record": outcome.verified,
        })

    def close(self, result: Any) -> None:
        status = "refused" if result.refused else ("ok" if result.ok else "failed")
        self._append({
            "type": "end", "finished_utc": utc_now().isoformat(timespec="seconds"),
            "status": status,
            "refused": [{"contact_id": s.contact_id, "field": s.field,
                         "planned_from": s.planned_from, "current": s.current}
                        for s in result.refused],
            "contacts": {str(o.contact_id): o.status for o in result.outcomes},
        })


    def fail(self, error: PlannerError) -> None:
        self._append({"type": "end", "finished_utc": utc_now().isoformat(timespec="seconds"),
                      "status": "error", "error": error.one_line()})


# -- reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One audit record, read back."""

    path: Path
    header: dict
    entries: tuple[dict, ...]

    @property
    def run_id(self) -> str:
        return self.header.get("run_id", "?")

    def writes(self) -> list[dict]:
        return [e for e in self.entries if e.get("type") == "write"]


def read_run(path: Path) -> Run:
    """A record; a last line cut short by a crash is ignored, anything else is an error."""
    lines = path.read_text("utf-8").splitlines()
    entries = []
    for number, line in enumerate(lines, 1):
        try:
            entries.append(json.loads(line))
        except ValueError:
            if number == len(lines):
                break  # the line being written when the process died
            raise AuditError(f"{path}:{number}: not a JSON line") from None
    if not entries or entries[0].get("type") != "run":
        raise AuditError(f"{path}: not a planner audit record")
    return Run(path, entries[0], tuple(entries[1:]))


def runs(directory: str | Path) -> Iterator[Run]:
    folder = Path(directory)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        yield read_run(path)


def find_run(directory: str | Path, run_id: str) -> Run:
    found = [r for r in runs(directory) if r.run_id == run_id or r.path.stem.endswith(run_id)]
    if not found:
        raise AuditError(f"no run {run_id!r} in {directory}/ (see `planner history`)")
    return found[0]


@dataclass(frozen=True)
class HistoryLine:
    """One field change of one contact in one run."""

    when: str
    run_id: str
    who: str
    contact_id: int
    method: str
    path: str
    change: FieldChange


def history(directory: str | Path, contact_id: int | None = None,
            since: dt.date | None = None) -> list[HistoryLine]:
    """Every successful field change recorded in the audit trail, oldest first."""
    out = []
    for run in runs(directory):
        for entry in run.writes():
            if entry.get("status") is None or entry["status"] >= 400:
                continue
            if contact_id is not None and entry["contact_id"] != contact_id:
                continue
            when = entry.get("at_utc", run.header.get("started_utc", ""))
            if since is not None and when[:10] < since.isoformat():
                continue
            for c in entry.get("changes", []):
                change = FieldChange(tuple(c["path"]), c["label"], c["action"], c["before"],
                                     c["after"])
                out.append(HistoryLine(when, run.run_id, run.header.get("who", "?"),
                                       entry["contact_id"], entry["method"], entry["path"],
                                       change))
    return sorted(out, key=lambda h: h.when)


def successful_writes(run: Run) -> Iterable[dict]:
    return (e for e in run.writes() if e.get("status") is not None and e["status"] < 400)
