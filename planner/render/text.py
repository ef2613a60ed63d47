"""The terminal rendering of a plan, in the spirit of `terraform plan`."""
from __future__ import annotations

from typing import Iterable

import click

from planner.ops import ContactPlan, Operation, Plan
from planner.render.values import describe

COLORS = {"+": "green", "-": "red", "~": "yellow"}


def _paint(symbol: str, text: str, color: bool) -> str:
    return click.style(text, fg=COLORS.get(symbol)) if color else text


def operation_lines(op: Operation, sensitive: Iterable[str], color: bool) -> list[str]:
    lines = [f"  {op.method} {op.path}"]
    for change in op.changes:
        symbol, text = describe(change, sensitive)
        lines.append(_paint(symbol, f"      {symbol} {text}", color))
    return lines


def contact_header(contact: ContactPlan, color: bool) -> str:
    name = f' "{contact.name}"' if contact.name else ""
    header = f"contact {contact.contact_id}{name} ({contact.file})"
    return click.style(header, bold=True) if color else header


def summary(plan: Plan) -> str:
    text = _summary(plan)
    if plan.unplannable:
        text += f" {len(plan.unplannable)} contact{'s' * (len(plan.unplannable) != 1)} could not be planned."
    return text


def _summary(plan: Plan) -> str:
    changed, unchanged = len(plan.changed), len(plan.unchanged)
    if not changed:
        return f"No changes. {unchanged} contact{'s' * (unchanged != 1)} already match{'es' * (unchanged == 1)} the desired state."
    return (f"Plan: {changed} contact{'s' * (changed != 1)} to change, "
            f"{plan.requests_to_apply()} requests on apply, {unchanged} unchanged.")


def render(plan: Plan, *, color: bool = False, sensitive: Iterable[str] = ()) -> str:
    sensitive = tuple(sensitive)
    blocks = []
    for contact in plan.changed:
        lines = [contact_header(contact, color)]
        for op in contact.operations:
            lines += operation_lines(op, sensitive, color)
        blocks.append("\n".join(lines))
    if plan.unplannable:
        lines = [f"contact {u.contact_id} ({u.file}): cannot be planned: {u.reason}"
                 for u in plan.unplannable]
        lines.append("planner never writes a record it could not read completely.")
        blocks.append("\n".join(_paint("-", line, color) for line in lines))
    blocks.append(summary(plan))
    return "\n\n".join(blocks) + "\n"
