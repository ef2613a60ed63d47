"""Text rendering of what apply did: refusals, per-contact outcomes, a summary line."""
from __future__ import annotations

import click

from planner.apply import APPLIED, ApplyResult
from planner.render.values import describe, show


def _line(text: str, fg: str | None, color: bool) -> str:
    return click.style(text, fg=fg) if color and fg else text


def render_apply(result: ApplyResult, color: bool = False) -> str:
    lines: list[str] = []
    if result.refused:
        lines.append(_line("Refused: the plan is stale; nothing was written.", "red", color))
        for s in result.refused:
            lines.append(f"  contact {s.contact_id}: {s.field}: planned from {show(s.planned_from)}, "
                         f"now {show(s.current)}")
        lines.append("Make a new plan from the current records and review it again.")
        return "\n".join(lines) + "\n"
    for edit in result.edited_elsewhere:
        lines.append(f"note: contact {edit.contact_id} was modified since the plan "
                     f"({edit.planned_from} -> {edit.current}) in fields this plan does not "
                     "change; their new values are kept")
    for o in result.outcomes:
        if o.status == APPLIED:
            lines.append(_line(f"contact {o.contact_id} ({o.file}): applied and verified "
                               f"({o.writes} write{'s' * (o.writes != 1)})", "green", color))
            continue
        lines.append(_line(f"contact {o.contact_id} ({o.file}): {o.status.upper()} "
                           f"after {o.writes} write{'s' * (o.writes != 1)}", "red", color))
        if o.error is not None:
            lines.append(f"  {o.error.one_line()}")
        for s in o.stale:
            lines.append(f"  {s.field}: planned from {show(s.planned_from)}, now {show(s.current)}")
        for op in o.remaining:
            lines.append(f"  still to change: {op.method} {op.path}")
            for change in op.changes:
                symbol, text = describe(change)
                lines.append(f"      {symbol} {text}")
    done = sum(o.status == APPLIED for o in result.outcomes)
    failed = len(result.outcomes) - done
    summary = f"Apply complete: {done} contact{'s' * (done != 1)} applied and verified"
    if failed:
        summary += f", {failed} not"
    lines.append(_line(summary + ".", "red" if failed else "green", color))
    return "\n".join(lines) + "\n"
