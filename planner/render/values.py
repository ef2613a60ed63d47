"""How values look to a reviewer, shared by the text and markdown renderers."""
from __future__ import annotations

import json
from typing import Any, Iterable

from planner.ops import ADD, REMOVE, FieldChange

MASK = "(sensitive)"
SYMBOL = {ADD: "+", REMOVE: "-"}


def show(value: Any) -> str:
    """A compact, unambiguous rendering: JSON scalars, and objects without their nulls."""
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {v if v == MASK else show(v)}" for k, v in value.items()
                          if v is not None)
        return "{" + inner + "}"
    return json.dumps(value, ensure_ascii=False)


def is_sensitive(change: FieldChange, sensitive: Iterable[str]) -> bool:
    names = set(sensitive)
    return any(part in names for part in change.path)


def masked(value: Any, sensitive: Iterable[str]) -> Any:
    """A value with the sensitive keys of any object inside it masked."""
    if isinstance(value, dict):
        names = set(sensitive)
        return {k: MASK if k in names and v is not None else masked(v, names)
                for k, v in value.items()}
    return value


def describe(change: FieldChange, sensitive: Iterable[str] = ()) -> tuple[str, str]:
    """(symbol, text) for one change, masking sensitive values, also inside added objects."""
    hidden = is_sensitive(change, sensitive)
    before = MASK if hidden else show(masked(change.before, sensitive))
    after = MASK if hidden else show(masked(change.after, sensitive))
    if change.action == ADD:
        return "+", f"{change.label}: {after}"
    if change.action == REMOVE:
        return "-", f"{change.label}: {before}"
    return "~", f"{change.label}: {before} -> {after}"
