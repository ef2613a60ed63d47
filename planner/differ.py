"""One generic keyed differ: canonical documents (nested mappings, no lists) to FieldChanges.

Arrays were turned into mappings keyed by identity by `normalize`, so deepdiff never pairs
items by position. Plain equality is tried first: it costs a fraction of a microsecond where
deepdiff costs milliseconds, and most resources do not change.
"""
from __future__ import annotations

from typing import Any, Callable

from deepdiff import DeepDiff

from planner.ops import ADD, REMOVE, UPDATE, FieldChange

Labeler = Callable[[tuple[str, ...], dict, dict], str]


def default_label(path: tuple[str, ...], before: dict, after: dict) -> str:
    return ".".join(path)


def _present(value: Any) -> bool:
    return type(value).__name__ != "NotPresent"


def diff(before: dict, after: dict, label: Labeler = default_label) -> tuple[FieldChange, ...]:
    """The field changes that turn `before` into `after`, sorted by path."""
    if before == after:
        return ()
    # threshold_to_diff_deeper=0: always report item by item, even when no key is shared.
    tree = DeepDiff(before, after, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    changes = []
    for report in ("values_changed", "type_changes", "dictionary_item_added",
                   "dictionary_item_removed"):
        for level in tree.get(report, ()):
            path = tuple(str(p) for p in level.path(output_format="list"))
            old = level.t1 if _present(level.t1) else None
            new = level.t2 if _present(level.t2) else None
            if report == "dictionary_item_added":
                action = ADD
            elif report == "dictionary_item_removed":
                action = REMOVE
            else:
                action = UPDATE
            changes.append(FieldChange(path, label(path, before, after), action, old, new))
    return tuple(sorted(changes, key=lambda c: c.path))
