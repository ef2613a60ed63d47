"""Fuzz the planner with live records the API should never send: whatever comes back, plan
either handles it, reports the contact unplannable, or raises a planner error naming the file;
never another exception. Bounded in examples so CI stays fast (PLANNER_FUZZ_EXAMPLES raises it).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.desired import load_file
from planner.errors import PlannerError
from planner.plan import make_plan
from tests.test_hostile_live import get_shape

CASES = Path(__file__).parent / "cases"
BASE = get_shape(json.loads((CASES / "everything_at_once" / "live.json").read_text()))
DESIRED = [load_file(str(p)) for p in sorted(CASES.glob("*/desired.yaml"))
           if not p.parent.name.startswith("error_")]
EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "300"))

junk = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10 ** 12) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["", "true", "7", "2026-11-02", "9/4/1998"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "type", "value", "name", "source", "isPrimary", "x"]), inner,
        max_size=4),
    max_leaves=12)


def _paths(record, prefix=()):
    """Every place in a record a fuzzed value can be put."""
    if isinstance(record, dict):
        for key, value in record.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(record, list):
        for index, value in enumerate(record):
            yield prefix + (index,)
            yield from _paths(value, prefix + (index,))


PLACES = list(_paths(BASE))


def _put(record, path, value):
    target = record
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PLACES), junk), min_size=1, max_size=4),
       st.sampled_from(DESIRED))
def test_planner_survives_any_live_record(edits, desired):
    record = json.loads(json.dumps(BASE))
    for path, value in edits:
        try:
            _put(record, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced the container this path went through
    try:
        plan = make_plan([(desired, record)])
    except PlannerError as exc:
        assert exc.one_line() and "\n" not in exc.one_line()
        return
    if plan.unplannable:
        assert plan.contacts == () and plan.unplannable[0].reason
