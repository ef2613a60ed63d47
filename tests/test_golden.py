"""Golden cases: one folder per case under tests/cases/ holding the live record (live.json),
the desired file (desired.yaml) and the expected plan text (expected.txt), or for a case that
must be refused, the expected one-line error (expected_error.txt).

Every case is planned against the sandbox and compared to its golden text; every case that
plans changes is then applied in both PUT semantics (and with string-typed answers) and must
converge, touch nothing the file does not name, and make exactly the minimal requests.

Set PLANNER_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff by eye).
"""
from __future__ import annotations

import json
import os

import pytest

from tests.golden import (CASES, expected_requests, load_case, run, snapshot,
                          unplanned_differences)

UPDATE = bool(os.environ.get("PLANNER_UPDATE_GOLDEN"))
ALL = sorted(p.name for p in CASES.iterdir() if p.is_dir())
ERRORS = [c for c in ALL if c.startswith("error_")]
GOOD = [c for c in ALL if not c.startswith("error_")]
MODES = [("replace", False), ("patch", False), ("replace", True), ("patch", True)]


def _logged(sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sandbox.requests]


@pytest.mark.parametrize("case", ALL)
def test_plan_matches_golden(case, make_sandbox, monkeypatch):
    live, folder = load_case(case)
    sandbox = make_sandbox(put_semantics="patch", contacts=[live])
    monkeypatch.chdir(folder)
    result = run(sandbox, "plan", "desired.yaml", "--no-color")
    golden = folder / ("expected_error.txt" if case in ERRORS else "expected.txt")
    produced = result.stderr if case in ERRORS else result.stdout
    if UPDATE:
        golden.write_text(produced)
    assert produced == golden.read_text(), produced
    assert result.exit_code == (1 if case in ERRORS else 0)
    if case in ERRORS:
        assert len(produced.strip().splitlines()) == 1 and "Traceback" not in produced
    assert all(method == "GET" for method, _ in _logged(sandbox))
    offline_error = run(sandbox, "validate", "desired.yaml").exit_code != 0
    # one read per contact; none when the file itself is invalid
    assert len(sandbox.requests) == (0 if offline_error else 1)


@pytest.mark.parametrize("semantics,string_typed", MODES,
                         ids=[f"{s}{'-string-typed' if t else ''}" for s, t in MODES])
@pytest.mark.parametrize("case", GOOD)
def test_apply_converges_and_keeps_everything_else(case, semantics, string_typed, make_sandbox, tmp_path,
                                                   monkeypatch):
    live, folder = load_case(case)
    sandbox = make_sandbox(put_semantics=semantics, string_typed=string_typed, contacts=[live])
    monkeypatch.chdir(folder)
    planned = run(sandbox, "plan", "desired.yaml", "--format", "json")
    assert planned.exit_code == 0, planned.output
    plan_doc = json.loads(planned.stdout)
    before = snapshot(sandbox, live["id"])
    sandbox.clear_log()

    applied = run(sandbox, "apply", "desired.yaml", "--auto-approve", "--audit-dir", str(tmp_path))
    assert applied.exit_code == 0, applied.output + applied.stderr

    via_find = {live["id"]: "find:" in (folder / "desired.yaml").read_text()}
    assert _logged(sandbox) == expected_requests(plan_doc, via_find)
    after = snapshot(sandbox, live["id"])
    assert unplanned_differences(before, after, plan_doc) == {}
    if plan_doc["summary"]["contacts_to_change"]:
        assert "applied and verified" in applied.stdout
        assert after != before

    again = run(sandbox, "plan", "desired.yaml", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    assert again.stdout.startswith("No changes.")
