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
        inner = ", ".join(f"{k}: {show(v)}" for k, v in value.items() if v is not None)
        return "{" + inner + "}"
    return json.dumps(value, ensure_ascii=False)


def is_sensitive(change: FieldChange, sensitive: Iterable[str]) -> bool:
    names = set(sensitive)
    return any(part in names for part in change.path)


def describe(change: FieldChange, sensitive: Iterable[str] = ()) -> tuple[str, str]:
    """(symbol, text) for one change, masking sensitive values."""
    masked = is_sensitive(change, sensitive)
    before = MASK if masked else show(change.before)
    after = MASK if masked else show(change.after)
    if change.action == ADD:
        return "+", f"{change.label}: {after}"
    if change.action == REMOVE:
        return "-", f"{change.label}: {before}"
    return "~", f"{change.label}: {before} -> {after}"
