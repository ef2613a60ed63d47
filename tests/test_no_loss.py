"""The no-loss promise as a property: a field the desired file does not name never changes.

For a generated live contact and a generated valid desired file over it (tests/live_strategies.py, tests/strategies.py),
applied to a fresh sandbox in both PUT semantics, with natural or string-typed answers, either
planner refuses the file as one that cannot converge (only files the strategy marks unstable:
one line, from plan and apply, and no write at all), or:
- every field the file does not name is the same value before and after (and the plan
  changed nothing outside what it showed), and a contact no file names is untouched;
- every named field holds what the file says (checked by this test, then by a second plan,
  which must say "No changes." with exit code 0 under --detailed-exitcode);
- apply made exactly the minimal requests (tests.golden.expected_requests).

"The same value" is strict: "" and null differ for text and dates, strings compare exactly.
Only the spelling of a non-text value may change when planner writes the resource holding it,
because a PUT carries natural types: "true"/true, "7"/7, "" or null for a missing boolean or
number (both "no value"), and "9/4/1998" / "1998-09-04T00:00:00.0" / "1998-09-04" for a date.
With string-typed answers, numbers and booleans inside customCollections and organizationGroups
(objects the typing does not describe) come back as strings and are written back so: the
sandbox stores them as sent, where the API would read "5" as 5 (docs/reliability.md).

`make proof` runs PLANNER_PROOF_EXAMPLES (default 1000) examples per semantics from the seed
PLANNER_PROOF_SEED, shrinking any failure (docs/reliability.md records the last run); a plain
`pytest` runs CI_EXAMPLES derandomized examples per semantics and reports a failure unshrunk
(shrinking one takes minutes); either way the failing live.json and desired.yaml are printed.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, seed, settings
from hypothesis import strategies as st

from planner import model
from planner.normalize import normalize_date, normalize_value
from planner.sandbox.server import SandboxConfig, SandboxServer
from tests.golden import IGNORED, expected_requests, flatten, planned_prefixes, run, snapshot
from tests.live_strategies import BYSTANDER, BYSTANDER_ID, category
from tests.strategies import DesiredCase, no_loss_cases

SEMANTICS = ("replace", "patch")
CI_EXAMPLES = 40
PROOF_EXAMPLES = os.environ.get("PLANNER_PROOF_EXAMPLES")
PROOF_SEED = int(os.environ.get("PLANNER_PROOF_SEED", "20261204"))
ABSENT = "<absent>"
OPAQUE = ("customCollections", "organizationGroups")  # objects the typing does not describe
HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


# -- comparing snapshots --------------------------------------------------------------------
def leaf_kind(path: tuple) -> str | None:
    """The live kind of a flattened snapshot leaf, when it is a scalar field of a resource."""
    if len(path) == 1:
        resource = "Contact"
    elif (path[0], len(path)) in (("address", 2), ("addresses", 3)):
        resource = "ContactAddress"
    elif path[0] == "contactIndividuals" and len(path) == 3:
        resource = "ContactIndividual"
    elif path[0] == "contactIndividuals" and len(path) == 5 and path[2] == "contactMethods":
        resource = "ContactMethod"
    else:
        return None
    found = model.fields(resource).get(path[-1])
    return found.kind if found else None


def _exact(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # true != 1 != "1"


def _as_string(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (int, float)) else value


def same_value(kind: str | None, a: Any, b: Any, opaque_as_string: bool = False) -> bool:
    """Whether two spellings of one leaf hold the same value (see the module docstring)."""
    if _exact(a, b):
        return True
    if a is ABSENT or b is ABSENT:
        return False
    if kind is None and opaque_as_string:
        return _exact(_as_string(a), _as_string(b))
    if kind in ("boolean", "integer"):
        return _exact(normalize_value(kind, a), normalize_value(kind, b))
    if kind == "date":
        na, nb = normalize_date(a), normalize_date(b)
        return isinstance(na, str) and na != "" and na == nb
    return False


def changes(before: dict, after: dict, string_typed: bool) -> dict[tuple, tuple]:
    """Leaves whose value differs between two snapshots, by flattened path."""
    flat_before, flat_after = flatten(before), flatten(after)
    out = {}
    for path in set(flat_before) | set(flat_after):
        old, new = flat_before.get(path, ABSENT), flat_after.get(path, ABSENT)
        opaque = string_typed and path[0] in OPAQUE
        if path not in IGNORED and not same_value(leaf_kind(path), old, new, opaque):
            out[path] = (old, new)
    return out


def natural_snapshot(server: SandboxServer, contact_id: int) -> dict:
    """tests.golden.snapshot with natural answers, so stored spellings are seen as stored."""
    typed, server.config.string_typed = server.config.string_typed, False
    try:
        return snapshot(server, contact_id)
    finally:
        server.config.string_typed = typed


def method_ids(snap: dict) -> dict[str, set[str]]:
    return {str(i["id"]): {str(m["id"]) for m in i.get("contactMethods") or []}
            for i in snap["contactIndividuals"]}


def named_by_file(case: DesiredCase, path: tuple, old_ids: dict[str, set[str]]) -> bool:
    if path in case.leaves or any(path[:len(p)] == p for p in case.named):
        return True
    # A method the file adds gets its id from the API: any id that was not there before.
    return (len(path) > 3 and path[0] == "contactIndividuals" and path[2] == "contactMethods"
            and path[3] not in old_ids.get(path[1], set())
            and path[:3] + ("<new>",) in case.named)


def named_by_plan(plan_doc: dict, path: tuple) -> bool:
    prefixes = planned_prefixes(plan_doc)
    # an emptied or first-filled list is one leaf ([]) on one side of the comparison
    return any(path[:len(p)] == p or p[:len(path)] == path for p in prefixes)


# -- what the named fields must hold ----------------------------------------------------------
def _methods(snap: dict, iid: str) -> dict[str, dict]:
    ind = next(i for i in snap["contactIndividuals"] if str(i["id"]) == iid)
    return {str(m["id"]): m for m in ind.get("contactMethods") or []}


def convergence_problems(case: DesiredCase, before: dict, after: dict) -> list[str]:
    flat = flatten(after)
    problems = []
    for path, kind, want in case.expect:
        got = flat.get(path, ABSENT)
        if got is ABSENT or not _exact(normalize_value(kind, got), want):
            problems.append(f"{path}: wanted {want!r}, got {got!r}")
    for path in case.gone:
        if any(p[:len(path)] == path for p in flat):
            problems.append(f"{path}: still present")
    for iid, fields in case.added:
        new = [m for mid, m in _methods(after, iid).items()
               if mid not in method_ids(before)[iid]
               and str(m["type"]).casefold() == fields["type"].casefold()
               and str(m["value"]).casefold() == fields["value"].casefold()]
        if len(new) != 1:
            problems.append(f"individual {iid}: {len(new)} methods added as {fields}")
            continue
        for name, value in fields.items():
            kind = model.fields("ContactMethod")[name].kind
            if not _exact(normalize_value(kind, new[0][name]), value):
                problems.append(f"individual {iid}: added method {name}={new[0][name]!r}")
    for iid, kind, key in case.primaries:
        primary = [mid for mid, m in _methods(after, iid).items() if category(m["type"]) == kind
                   and normalize_value("boolean", m["isPrimary"]) is True]
        wanted = [key] if key else [m for m in primary if m not in method_ids(before)[iid]]
        if len(primary) != 1 or primary != wanted:
            problems.append(f"individual {iid}: primary {kind} methods {primary}, wanted {key}")
    return problems


# -- the property ---------------------------------------------------------------------------
def check_refused(server: SandboxServer, desired: Path, message: str, tmp: str) -> None:
    """A file that cannot converge is refused with one line, by plan and apply, unwritten."""
    event("refused: the file would not converge")
    assert "converge" in message or "after this file is applied" in message, message
    assert len(message.strip().splitlines()) == 1 and "Traceback" not in message, message
    applied = run(server, "apply", str(desired), "--auto-approve",
                  "--audit-dir", str(Path(tmp, "audit")))
    assert applied.exit_code == 1, applied.output + applied.stderr
    assert [r for r in server.requests if r["method"] != "GET"] == []


def describe(plan_doc: dict, case: DesiredCase, string_typed: bool) -> None:
    """Label the example for --hypothesis-show-statistics: what was generated and planned."""
    event("answers string-typed" if string_typed else "answers natural")
    event("contact found by find" if case.via_find else "contact found by id")
    kinds = {op["kind"] for c in plan_doc["contacts"] for op in c["operations"]}
    for kind in sorted(kinds) or ["nothing (no change planned)"]:
        event(f"plan writes {kind}")
    if case.added or case.gone or case.primaries:
        event("methods or items added, removed or made primary")


def check_no_loss(semantics: str, string_typed: bool, live: dict, case: DesiredCase) -> None:
    note(f"live.json:\n{json.dumps(live, indent=1, ensure_ascii=False)}")
    note(f"desired.yaml:\n{case.text}")
    cid = live["id"]
    server = SandboxServer(SandboxConfig(put_semantics=semantics, string_typed=string_typed),
                           contacts=[live, BYSTANDER]).start()
    try:
        with tempfile.TemporaryDirectory(prefix="no-loss-") as tmp:
            desired = Path(tmp, "contact.yaml")
            desired.write_text(case.text, encoding="utf-8")
            planned = run(server, "plan", str(desired), "--format", "json")
            if planned.exit_code == 1 and not case.stable:
                return check_refused(server, desired, planned.stderr, tmp)
            assert planned.exit_code == 0, planned.output + planned.stderr
            plan_doc = json.loads(planned.stdout)
            describe(plan_doc, case, string_typed)
            before = natural_snapshot(server, cid)
            bystander = server.contact(BYSTANDER_ID)
            server.clear_log()

            applied = run(server, "apply", str(desired), "--auto-approve",
                          "--audit-dir", str(Path(tmp, "audit")))
            assert applied.exit_code == 0, applied.output + applied.stderr
            logged = [(r["method"], r["path"]) for r in server.requests]
            wanted = expected_requests(plan_doc, {cid: case.via_find})
            assert logged == wanted, f"requests {logged}, wanted {wanted}"

            after = natural_snapshot(server, cid)
            changed = changes(before, after, string_typed)
            old_ids = method_ids(before)
            unnamed = {p: v for p, v in changed.items() if not named_by_file(case, p, old_ids)}
            assert unnamed == {}, f"changed although the file does not name them: {unnamed}"
            unplanned = {p: v for p, v in changed.items() if not named_by_plan(plan_doc, p)}
            assert unplanned == {}, f"changed although the plan did not show them: {unplanned}"
            assert server.contact(BYSTANDER_ID) == bystander
            problems = convergence_problems(case, before, after)
            assert problems == [], f"not converged: {problems}"

            again = run(server, "plan", str(desired), "--detailed-exitcode")
            assert again.exit_code == 0, again.stdout + again.stderr
            assert again.stdout.startswith("No changes.")
    finally:
        server.stop()


@pytest.mark.parametrize("semantics", SEMANTICS)
@settings(max_examples=CI_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=HEALTH, phases=[Phase.explicit, Phase.generate])
@given(drawn=no_loss_cases(), string_typed=st.booleans())
def test_no_loss(semantics: str, drawn: tuple[dict, DesiredCase], string_typed: bool) -> None:
    check_no_loss(semantics, string_typed, *drawn)


@pytest.mark.slow
@pytest.mark.skipif(not PROOF_EXAMPLES, reason="set PLANNER_PROOF_EXAMPLES (make proof)")
@pytest.mark.parametrize("semantics", SEMANTICS)
@seed(PROOF_SEED)
@settings(max_examples=int(PROOF_EXAMPLES or 1000), deadline=None, database=None,
          suppress_health_check=HEALTH, print_blob=True)
@given(drawn=no_loss_cases(), string_typed=st.booleans())
def test_no_loss_proof(semantics: str, drawn: tuple[dict, DesiredCase],
                       string_typed: bool) -> None:
    check_no_loss(semantics, string_typed, *drawn)
