"""Saved plans: a JSON document with a checksum, the same document `--format json` prints."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from planner import __version__
from planner.errors import PlanFileError
from planner.ops import (OPERATION_KINDS, ContactPlan, FieldChange, Operation, Plan,
                         Unplannable)

FORMAT_VERSION = 1


def _operation_doc(op: Operation) -> dict[str, Any]:
    return {
        "kind": op.kind,
        "method": op.method,
        "path": op.path,
        "resource_id": op.resource_id,
        "reason": op.reason,
        "changes": [{"path": list(c.path), "label": c.label, "action": c.action,
                     "before": c.before, "after": c.after} for c in op.changes],
        "patch": op.patch(),
    }


def checksum(document: dict) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_document(plan: Plan) -> dict[str, Any]:
    """The stable, documented JSON form of a plan (see README, "Plan documents")."""
    document = {
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "sources": [{"file": f, "sha256": s} for f, s in plan.sources],
        "summary": {"contacts_to_change": len(plan.changed),
                    "requests_on_apply": plan.requests_to_apply(),
                    "unchanged": len(plan.unchanged)},
        "contacts": [{
            "contact_id": c.contact_id,
            "name": c.name,
            "file": c.file,
            "live": c.live,
            "operations": [_operation_doc(op) for op in c.operations],
        } for c in plan.contacts],
        "unplannable": [{"file": u.file, "contact_id": u.contact_id, "reason": u.reason}
                        for u in plan.unplannable],
    }
    document["checksum"] = checksum(document)
    return document


def _operation(doc: dict, contact_id: int) -> Operation:
    cls = OPERATION_KINDS[doc["kind"]]
    changes = tuple(FieldChange(tuple(c["path"]), c["label"], c["action"], c["before"], c["after"])
                    for c in doc["changes"])
    extra = {}
    if doc["kind"] == "put_individual":
        extra["individual_id"] = int(doc["resource_id"])
    elif doc["kind"] == "put_address":
        extra["address_id"] = int(doc["resource_id"])
    return cls(contact_id, changes, doc["reason"], **extra)


def from_document(document: Any, where: str = "plan") -> Plan:
    """A Plan from its JSON document; refuses edited, truncated or foreign documents."""
    if not isinstance(document, dict) or "format_version" not in document:
        raise PlanFileError(f"{where}: not a planner plan file")
    if document["format_version"] != FORMAT_VERSION:
        raise PlanFileError(f"{where}: plan format_version {document['format_version']!r} is not "
                            f"supported (this planner reads {FORMAT_VERSION})")
    if document.get("checksum") != checksum(document):
        raise PlanFileError(f"{where}: checksum mismatch: the plan file was edited or damaged; "
                            "make a new plan")
    try:
        contacts = tuple(
            ContactPlan(int(c["contact_id"]), c["name"], c["file"], c["live"],
                        tuple(_operation(op, int(c["contact_id"])) for op in c["operations"]))
            for c in document["contacts"])
        sources = tuple((s["file"], s["sha256"]) for s in document["sources"])
        unplannable = tuple(Unplannable(u["file"], u["contact_id"], u["reason"])
                            for u in document.get("unplannable", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{where}: malformed plan document ({exc!r})") from None
    return Plan(contacts, sources, unplannable)


def dumps(plan: Plan) -> str:
    return json.dumps(to_document(plan), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write(path: str | Path, plan: Plan) -> str:
    """Write atomically; return the plan's checksum."""
    text = dumps(plan)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return json.loads(text)["checksum"]


def read(path: str | Path) -> tuple[Plan, str]:
    """The plan in a file and its checksum."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"{path}: cannot read plan file: {exc}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"{path}: not a complete JSON plan (truncated?): {exc}") from None
    return from_document(document, str(path)), document.get("checksum", "")
