"""Revert: a plan that restores the before values of one audited run.

It is an ordinary plan: its guards hold the values the run wrote, so applying it is refused
(exit 3) if any of those fields changed again since; it is reviewed and applied like any other.
"""
from __future__ import annotations

from planner.audit import Run, successful_writes
from planner.differ import diff
from planner.normalize import canonical, canonical_address, canonical_contact_doc, canonical_individual
from planner.ops import ORDER, OPERATION_KINDS, ContactPlan, Operation, Plan
from planner.plan import labeler

UNDO_KIND = {"archive": "unarchive", "unarchive": "archive"}


def _docs(entry: dict) -> tuple[dict, dict]:
    before, after, kind = entry["before"], entry["after"], entry["kind"]
    if kind in UNDO_KIND:
        return {"isArchived": kind == "unarchive"}, {"isArchived": kind == "archive"}
    canon = {"put_contact": lambda r: canonical_contact_doc(r, entry["contact_id"]),
             "put_individual": lambda r: canonical_individual(r, entry["contact_id"]),
             "put_address": canonical_address}[kind]
    return canon(before), canon(after)


def undo(entry: dict, reason: str) -> Operation | None:
    """The operation that takes one audited write's resource from its after back to before."""
    before, after = _docs(entry)
    kind = UNDO_KIND.get(entry["kind"], entry["kind"])
    changes = diff(after, before, labeler(kind))
    if not changes:
        return None
    extra = {}
    if kind == "put_individual":
        extra["individual_id"] = int(entry["resource_id"])
    elif kind == "put_address":
        extra["address_id"] = int(entry["resource_id"])
    return OPERATION_KINDS[kind](int(entry["contact_id"]), changes, reason, **extra)


def revert_plan(run: Run) -> Plan:
    """Undo every successful write of `run`, per contact in dependency order."""
    reason = f"revert of run {run.run_id}"
    by_contact: dict[int, list[Operation]] = {}
    for entry in successful_writes(run):
        op = undo(entry, reason)
        if op is not None:
            by_contact.setdefault(op.contact_id, []).append(op)
    records = {e["contact_id"]: e.get("record") for e in run.entries
               if e.get("type") == "verify" and e.get("record")}
    contacts = []
    for contact_id, ops in sorted(by_contact.items()):
        record = records.get(contact_id)
        live = canonical(record) if record else {"id": contact_id, "modifiedDateTimeUtc": None}
        name = live.get("contact", {}).get("name") if record else None
        ops.sort(key=lambda op: ORDER[op.kind])
        contacts.append(ContactPlan(contact_id, name, f"revert {run.run_id}", live, tuple(ops)))
    return Plan(tuple(contacts), ())
