"""The audit trail, history, revert, and import, against the sandbox."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.audit import read_run, runs
from planner.normalize import canonical
from planner.sandbox.demodata import generate
from tests.golden import run, snapshot

ROOT = Path(__file__).resolve().parent.parent
PLANS = str(ROOT / "plans")
DEMO_IDS = [c["id"] for c in generate(25, 1)]


def comparable(record: dict) -> dict:
    """A contact with method ids replaced by identity: a revert re-creates deleted methods,
    and the API gives them new ids."""
    doc = canonical(record)
    for ind in doc["individuals"].values():
        ind["contactMethods"] = sorted(
            (json.dumps(m, sort_keys=True) for m in ind["contactMethods"].values()))
    doc.pop("modifiedDateTimeUtc")
    return doc


def applied_run(sandbox, tmp_path) -> Path:
    plan_path = tmp_path / "plan.json"
    assert run(sandbox, "plan", PLANS, "-o", str(plan_path)).exit_code == 0
    result = run(sandbox, "apply", str(plan_path), "--audit-dir", str(tmp_path / "audit"))
    assert result.exit_code == 0, result.stdout + result.stderr
    [record] = list((tmp_path / "audit").glob("*.jsonl"))
    return record


def test_audit_record_of_a_successful_apply(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1))
    record = applied_run(sandbox, tmp_path)
    audit = read_run(record)
    header = audit.header
    assert header["run_id"] and record.name.endswith(f"-{header['run_id']}.jsonl")
    assert header["tool_version"] and header["who"] and header["started_utc"]
    assert header["plan_sha256"] == json.loads((tmp_path / "plan.json").read_text())["checksum"]
    assert header["git_commit"] is None or len(header["git_commit"]) == 40
    puts = [r for r in sandbox.requests if r["method"] == "PUT"]
    writes = audit.writes()
    assert [(w["method"], w["path"]) for w in writes] == [(r["method"], r["path"]) for r in puts]
    for write in writes:
        assert write["status"] == 200 and write["changes"]
        assert write["before"] is not None and write["after"] is not None
        if write["kind"].startswith("put_"):
            assert write["patch"], write["path"]  # RFC 6902 from before to after
    verified = [e for e in audit.entries if e["type"] == "verify"]
    assert {e["contact_id"] for e in verified} == {1001, 1002, 1003, 1004, 1005, 1006}
    assert all(e["status"] == "applied" for e in verified)
    assert audit.entries[-1]["type"] == "end" and audit.entries[-1]["status"] == "ok"
    assert sandbox.token not in record.read_text()


def test_audit_record_of_a_failed_request(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1))
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "a.yaml").write_text("contact:\n  id: 1004\n  name: '   '\n")
    result = run(sandbox, "apply", str(plans), "--auto-approve", "--audit-dir", str(tmp_path / "audit"))
    assert result.exit_code == 1
    [record] = runs(tmp_path / "audit")
    [write] = record.writes()
    assert write["status"] == 422 and write["error"]["code"] == "VALIDATION_FAILED"
    assert write["error"]["details"][0]["field"] == "name"
    assert record.entries[-1]["status"] == "failed"


def test_audit_record_survives_a_killed_process(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1), latency=0.15)
    plan_path = tmp_path / "plan.json"
    assert run(sandbox, "plan", PLANS, "-o", str(plan_path)).exit_code == 0
    audit_dir = tmp_path / "audit"
    env = dict(os.environ, VIRTUOUS_API_URL=sandbox.url, VIRTUOUS_TOKEN=sandbox.token)
    process = subprocess.Popen([sys.executable, "-m", "planner", "apply", str(plan_path),
                                "--audit-dir", str(audit_dir)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        files = list(audit_dir.glob("*.jsonl"))
        if files and files[0].read_text().count('"type": "write"') >= 2:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    [record] = runs(audit_dir)
    assert record.entries[-1]["type"] != "end"  # it died mid-run, and the record says so
    done = [(r["method"], r["path"]) for r in sandbox.requests
            if r["method"] == "PUT" and r["status"] == 200]
    recorded = [(w["method"], w["path"]) for w in record.writes()]
    assert len(recorded) >= 2
    assert recorded == done[:len(recorded)]  # truthful: every recorded write happened, in order


def test_history_lists_changes_by_contact(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1))
    applied_run(sandbox, tmp_path)
    everything = run(sandbox, "history", "--audit-dir", str(tmp_path / "audit"))
    assert everything.exit_code == 0
    assert "contact 1005" in everything.stdout and "contact 1001" in everything.stdout
    one = run(sandbox, "history", "1004", "--audit-dir", str(tmp_path / "audit"))
    lines = one.stdout.splitlines()
    assert lines and all("contact 1004" in line for line in lines)
    assert any('+ contactMethods[new Home Email miguel.allen@mail.example.org]' in l for l in lines)
    died = run(sandbox, "history", "1006", "--audit-dir", str(tmp_path / "audit")).stdout
    assert "deceasedDate: (sensitive) -> (sensitive)" in died  # masked by default
    later = run(sandbox, "history", "--since", "2999-01-01", "--audit-dir", str(tmp_path / "audit"))
    assert later.stdout.startswith("No recorded changes")


def test_revert_restores_the_demo_data_exactly(make_sandbox, put_semantics, tmp_path):
    sandbox = make_sandbox(put_semantics=put_semantics, contacts=generate(25, 1))
    before = {cid: comparable(snapshot(sandbox, cid)) for cid in DEMO_IDS}
    record = applied_run(sandbox, tmp_path)
    run_id = read_run(record).run_id
    revert_path = tmp_path / "revert.json"
    shown = run(sandbox, "revert", run_id, "-o", str(revert_path), "--audit-dir", str(tmp_path / "audit"))
    assert shown.exit_code == 0, shown.stderr
    assert "Plan: 6 contacts to change" in shown.stdout
    undone = run(sandbox, "apply", str(revert_path), "--audit-dir", str(tmp_path / "audit"))
    assert undone.exit_code == 0, undone.stdout + undone.stderr
    after = {cid: comparable(snapshot(sandbox, cid)) for cid in DEMO_IDS}
    assert after == before


def test_revert_is_refused_when_a_field_changed_again(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1))
    run_id = read_run(applied_run(sandbox, tmp_path)).run_id
    revert_path = tmp_path / "revert.json"
    run(sandbox, "revert", run_id, "-o", str(revert_path), "--audit-dir", str(tmp_path / "audit"))
    sandbox.writer_edit(1003, informalName="Joshua")
    sandbox.clear_log()
    undone = run(sandbox, "apply", str(revert_path), "--audit-dir", str(tmp_path / "audit"))
    assert undone.exit_code == 3
    assert "contact 1003: informalName: planned from \"Josh\", now \"Joshua\"" in undone.stdout
    assert [r for r in sandbox.requests if r["method"] != "GET"] == []


@pytest.mark.parametrize("string_typed", [False, True])
def test_import_then_plan_is_a_no_op_for_every_demo_contact(make_sandbox, tmp_path, string_typed):
    sandbox = make_sandbox(contacts=generate(25, 1), string_typed=string_typed)
    for cid in DEMO_IDS:
        result = run(sandbox, "import", str(cid), "-o", str(tmp_path / f"{cid}.yaml"))
        assert result.exit_code == 0, result.stderr
    assert run(sandbox, "validate", str(tmp_path)).exit_code == 0
    planned = run(sandbox, "plan", str(tmp_path), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.stdout
    assert planned.stdout.startswith("No changes. 25 contacts already match")


def test_import_by_email_reference_and_chosen_fields(make_sandbox, tmp_path):
    sandbox = make_sandbox(contacts=generate(25, 1))
    by_email = run(sandbox, "import", "--email", "jyoung@post.example.org")
    assert by_email.exit_code == 0 and "id: 1003" in by_email.stdout
    by_ref = run(sandbox, "import", "--reference", "Legacy:0001000", "--fields", "name,customFields")
    assert by_ref.exit_code == 0
    assert "id: 1002" in by_ref.stdout and "contactIndividuals" not in by_ref.stdout
    typo = run(sandbox, "import", "1001", "--fields", "nmae")
    assert typo.exit_code == 1 and "did you mean `name`?" in typo.stderr
    target = tmp_path / "x.yaml"
    target.write_text("keep me")
    again = run(sandbox, "import", "1001", "-o", str(target))
    assert again.exit_code == 1 and "--force" in again.stderr and target.read_text() == "keep me"
