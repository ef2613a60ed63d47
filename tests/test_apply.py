"""apply end to end against the sandbox: saved plans, staleness, failures, the demo plans in
both PUT semantics, and convergence after every apply."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.sandbox.demodata import generate
from tests.golden import flatten, run, snapshot

ROOT = Path(__file__).resolve().parent.parent
PLANS = str(ROOT / "plans")
IGNORED = {"modifiedDateTimeUtc", "modifiedByUser"}


def writes(sandbox) -> list[dict]:
    return [r for r in sandbox.requests if r["method"] != "GET"]


def stable(record: dict) -> dict:
    return {k: v for k, v in flatten(record).items() if k[-1] not in IGNORED}


@pytest.fixture
def demo(make_sandbox, put_semantics):
    return make_sandbox(put_semantics=put_semantics, contacts=generate(25, 1))


def test_demo_plans_apply_converge_and_touch_nothing_else(demo, tmp_path):
    before = {c["id"]: snapshot(demo, c["id"]) for c in generate(25, 1)}
    planned = run(demo, "plan", PLANS, "-o", str(tmp_path / "plan.json"), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.stderr
    assert "Plan: 6 contacts to change" in planned.stdout
    demo.clear_log()
    applied = run(demo, "apply", str(tmp_path / "plan.json"), "--audit-dir", str(tmp_path / "audit"))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert applied.stdout.count("applied and verified") == 6 + 1  # six lines and the summary
    document = json.loads((tmp_path / "plan.json").read_text())
    assert len(demo.requests) == document["summary"]["requests_on_apply"]
    untouched = [c for c in before if c not in {p["contact_id"] for p in document["contacts"]}]
    for cid in untouched:  # contacts without a desired file: not one field changed
        assert stable(snapshot(demo, cid)) == stable(before[cid])
    again = run(demo, "plan", PLANS, "--detailed-exitcode")
    assert again.exit_code == 0 and again.stdout.startswith("No changes.")


def test_saved_plan_made_stale_by_another_writer_is_refused(demo, tmp_path):
    plan_path = str(tmp_path / "plan.json")
    assert run(demo, "plan", PLANS, "-o", plan_path).exit_code == 0
    demo.writer_edit(1005, writer="Jo in the office",
                     set={"customFields": [{"name": "Newsletter", "value": "Print",
                                            "displayName": "Newsletter"}]})
    demo.clear_log()
    applied = run(demo, "apply", plan_path, "--audit-dir", str(tmp_path / "audit"))
    assert applied.exit_code == 3, applied.stdout + applied.stderr
    assert writes(demo) == []
    assert 'contact 1005: customFields["Newsletter"]: planned from "Opted Out", now "Print"' \
        in applied.stdout
    assert "nothing was written" in applied.stdout


def test_saved_plan_with_other_fields_changed_applies_and_keeps_them(demo, tmp_path):
    plan_path = str(tmp_path / "plan.json")
    assert run(demo, "plan", PLANS, "-o", plan_path).exit_code == 0
    demo.writer_edit(1001, writer="Jo in the office", description="Met at the gala")
    applied = run(demo, "apply", plan_path, "--audit-dir", str(tmp_path / "audit"))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "contact 1001 was modified since the plan" in applied.stdout
    assert snapshot(demo, 1001)["description"] == "Met at the gala"
    assert snapshot(demo, 1001)["address"]["address1"] == "3978 Jackson Boulevard"


def test_strict_refuses_any_modification(demo, tmp_path):
    plan_path = str(tmp_path / "plan.json")
    assert run(demo, "plan", PLANS, "-o", plan_path).exit_code == 0
    demo.writer_edit(1001, description="Met at the gala")
    demo.clear_log()
    applied = run(demo, "apply", plan_path, "--strict", "--audit-dir", str(tmp_path / "a"))
    assert applied.exit_code == 3
    assert "modifiedDateTimeUtc" in applied.stdout
    assert writes(demo) == []


def test_edited_plan_file_is_refused(demo, tmp_path):
    plan_path = tmp_path / "plan.json"
    assert run(demo, "plan", PLANS, "-o", str(plan_path)).exit_code == 0
    document = json.loads(plan_path.read_text())
    document["contacts"][0]["operations"][0]["changes"][0]["after"] = "something else"
    plan_path.write_text(json.dumps(document))
    demo.clear_log()
    applied = run(demo, "apply", str(plan_path))
    assert applied.exit_code == 1
    assert "checksum mismatch" in applied.stderr
    assert demo.requests == []


def test_truncated_plan_file_is_refused(demo, tmp_path):
    plan_path = tmp_path / "plan.json"
    assert run(demo, "plan", PLANS, "-o", str(plan_path)).exit_code == 0
    plan_path.write_text(plan_path.read_text()[:500])
    applied = run(demo, "apply", str(plan_path))
    assert applied.exit_code == 1 and "truncated" in applied.stderr
    assert "Traceback" not in applied.stdout + applied.stderr


def test_confirmation_only_yes_proceeds(demo, tmp_path):
    demo.clear_log()
    declined = run(demo, "apply", PLANS, "--audit-dir", str(tmp_path), input="y\n")
    assert declined.exit_code == 0
    assert "Apply cancelled; nothing was written." in declined.stdout
    assert writes(demo) == []
    accepted = run(demo, "apply", PLANS, "--audit-dir", str(tmp_path), input="yes\n")
    assert accepted.exit_code == 0, accepted.stdout
    assert "Apply complete: 6 contacts applied and verified." in accepted.stdout


def test_api_error_is_reported_and_the_contact_gets_no_further_writes(make_sandbox, tmp_path):
    sandbox = make_sandbox(put_semantics="replace", contacts=generate(25, 1))
    bad = tmp_path / "plans" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text("contact:\n  id: 1001\n  name: Allens\n  contactIndividuals:\n"
                   "    - id: 2001\n      contactMethods:\n"
                   "        - match: {type: Home Email}\n          value: not-an-email\n"
                   "  address:\n    city: Lincoln\n")
    good = tmp_path / "plans" / "good.yaml"
    good.write_text("contact:\n  id: 1004\n  informalName: Mig\n")
    applied = run(sandbox, "apply", str(tmp_path / "plans"), "--auto-approve",
                  "--audit-dir", str(tmp_path / "audit"))
    assert applied.exit_code == 1
    assert "contact 1001" in applied.stdout and "FAILED" in applied.stdout
    assert "HTTP 422 VALIDATION_FAILED" in applied.stdout
    assert "contact 1004 (" in applied.stdout and "applied and verified" in applied.stdout
    puts = [r["path"] for r in writes(sandbox)]
    assert "/api/ContactAddress/4001" not in puts  # no further writes after the failure
    assert snapshot(sandbox, 1001)["name"] == "Allens"  # the write before it stands
    assert snapshot(sandbox, 1001)["address"]["city"] != "Lincoln"


def test_apply_refuses_to_start_what_the_quota_cannot_finish(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1), rate_limit=20)
    plan_path = str(tmp_path / "plan.json")
    assert run(sandbox, "plan", PLANS, "-o", plan_path).exit_code == 0  # 7 requests
    sandbox.clear_log()
    applied = run(sandbox, "apply", plan_path, "--audit-dir", str(tmp_path / "audit"))
    assert applied.exit_code == 1
    assert "apply needs 22 more requests but the organisation has 7 left" in applied.stderr
    assert writes(sandbox) == []


def test_bulk_read_plans_the_same_with_far_fewer_requests(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1))
    single = run(sandbox, "plan", PLANS, "--format", "json")
    assert len(sandbox.requests) == 7  # one read per desired file
    sandbox.clear_log()
    bulk = run(sandbox, "plan", PLANS, "--format", "json", "--bulk-read")
    assert bulk.exit_code == 0 and bulk.stdout == single.stdout
    assert sorted(r["path"] for r in sandbox.requests) == [
        "/api/Contact/Find", "/api/Contact/Find", "/api/Contact/Query/FullContact"]
    missing = tmp_path / "missing.yaml"
    missing.write_text("contact:\n  id: 99999\n  name: Nobody\n")
    result = run(sandbox, "plan", str(missing), "--bulk-read")
    assert result.exit_code == 1
    assert f"{missing}: contact.id: no contact 99999 in the CRM" in result.stderr
