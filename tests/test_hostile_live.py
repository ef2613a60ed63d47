"""Live data the API may send: planner plans what it can read completely, reports the rest as
unplannable with the reason, and never writes a record it could not fully read."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from planner.client import Client
from planner.desired import load_bytes
from planner.plan import make_plan
from planner.sandbox.app import string_typed
from planner.sandbox.demodata import generate
from tests.golden import run, snapshot

CASES = Path(__file__).parent / "cases"
BASE = json.loads((CASES / "top_level_field" / "live.json").read_text())
DESIRED = load_bytes(b"contact:\n  id: 1042\n  name: New Name\n  contactIndividuals:\n"
                     b"    - match: {isPrimary: true}\n      nickname: J\n", "hostile.yaml")


def get_shape(seed: dict) -> dict:
    record = copy.deepcopy(seed)
    addresses = record.pop("addresses", [])
    record["address"] = next((a for a in addresses if a.get("isPrimary")), None)
    return record


def mutated(**changes) -> dict:
    record = get_shape(BASE)
    for key, value in changes.items():
        if value is KeyError:
            record.pop(key, None)
        else:
            record[key] = value
    return record


HANDLED = {
    "missing optional fields": mutated(informalName=KeyError, website=KeyError, tags=KeyError,
                                       customFields=KeyError, contactReferences=KeyError),
    "unknown extra fields": mutated(brandNewField={"x": 1}, anotherOne=[1, 2]),
    "nulls for lists and objects": mutated(customFields=None, contactReferences=None, address=None),
    "string-typed values": string_typed(get_shape(BASE)),
    "numbers as strings": mutated(anniversaryMonth="6", anniversaryDay="14", id="1042"),
}
UNPLANNABLE = {
    "an array where an object was expected": (mutated(address=[]), "address is a list"),
    "an object where a list was expected": (mutated(contactIndividuals={"a": 1}),
                                            "contactIndividuals is not a list of objects"),
    "an individual without an id": (
        mutated(contactIndividuals=[{"firstName": "Jane", "isPrimary": True}]),
        "an individual has no usable id"),
    "a custom field without a name": (mutated(customFields=[{"value": "x"}]),
                                      "a custom field has no name"),
    "a record without an id": (mutated(id=None), "the record has no usable id"),
}


@pytest.mark.parametrize("name", HANDLED)
def test_odd_but_readable_records_are_planned(name):
    plan = make_plan([(DESIRED, HANDLED[name])])
    assert not plan.unplannable
    [contact] = plan.contacts
    labels = {c.label for op in contact.operations for c in op.changes}
    assert labels == {"name", "nickname"}


@pytest.mark.parametrize("name", UNPLANNABLE)
def test_unreadable_records_are_reported_not_planned(name):
    record, reason = UNPLANNABLE[name]
    plan = make_plan([(DESIRED, record)])
    assert plan.contacts == ()
    [unplannable] = plan.unplannable
    assert reason in unplannable.reason and unplannable.file == "hostile.yaml"


@pytest.mark.parametrize("name", UNPLANNABLE)
def test_the_cli_reports_unplannable_contacts_and_writes_nothing(name, monkeypatch, tmp_path):
    record, reason = UNPLANNABLE[name]
    monkeypatch.setattr(Client, "get_contact", lambda self, cid: copy.deepcopy(record))
    for method in ("put_contact", "put_individual", "put_address", "archive", "unarchive"):
        monkeypatch.setattr(Client, method, lambda *a, **k: pytest.fail("a write was attempted"))
    desired = tmp_path / "hostile.yaml"
    desired.write_text("contact:\n  id: 1042\n  name: New Name\n")
    server = type("Dead", (), {"url": "http://127.0.0.1:9", "token": "t"})()
    for args in (["plan", str(desired), "-o", str(tmp_path / "p.json")],
                 ["apply", str(desired), "--auto-approve", "--audit-dir", str(tmp_path / "a")]):
        result = run(server, *args)
        assert result.exit_code == 1
        assert "cannot be planned" in result.stdout and reason in result.stdout
        assert "could not be planned" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "p.json").exists()


def test_unknown_live_fields_are_carried_through_or_the_write_fails_cleanly(make_sandbox, tmp_path,
                                                                          monkeypatch):
    sandbox = make_sandbox(put_semantics="replace", contacts=generate(5, 1))
    real_get = Client.get_contact
    monkeypatch.setattr(Client, "get_contact",  # an API that answers a field planner never saw
                        lambda self, cid: {**real_get(self, cid), "brandNewField": "keep me"})
    before = snapshot(sandbox, 1004)
    desired = tmp_path / "d.yaml"
    desired.write_text("contact:\n  id: 1004\n  informalName: Mig\n")
    result = run(sandbox, "apply", str(desired), "--auto-approve", "--audit-dir", str(tmp_path))
    put = [r for r in sandbox.requests if r["method"] == "PUT"]
    assert put and put[0]["body"]["brandNewField"] == "keep me"  # sent back, never dropped
    # This sandbox rejects fields it does not know: the write fails and changes nothing.
    assert result.exit_code == 1 and "UNKNOWN_FIELD" in result.stdout
    assert snapshot(sandbox, 1004) == before


HOSTILE = sorted(p for p in (Path(__file__).parent / "hostile").iterdir() if p.suffix == ".yaml")


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_no_command_sends_anything_for_a_hostile_file(path, sandbox, tmp_path):
    """plan and apply stop at loading: exit 1, one line naming the file, not one request."""
    for args in (["plan", str(path)], ["apply", str(path), "--auto-approve",
                                       "--audit-dir", str(tmp_path)]):
        result = run(sandbox, *args)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: {path}: ") and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert sandbox.requests == []
    assert not any(tmp_path.iterdir())  # no audit record either: nothing was attempted


def test_a_change_the_api_silently_drops_is_reported_not_converged(make_sandbox, tmp_path,
                                                                   monkeypatch):
    sandbox = make_sandbox(put_semantics="replace", contacts=generate(5, 1))
    monkeypatch.setattr(Client, "put_contact",  # an API that answers 200 and keeps nothing
                        lambda self, cid, body: self.get_contact(cid))
    desired = tmp_path / "d.yaml"
    desired.write_text("contact:\n  id: 1004\n  informalName: Mig\n")
    result = run(sandbox, "apply", str(desired), "--auto-approve", "--audit-dir", str(tmp_path))
    assert result.exit_code == 1
    assert f"contact 1004 ({desired}): NOT CONVERGED after 1 write" in result.stdout
    assert 'still to change: PUT /api/Contact/1004' in result.stdout
    assert '~ informalName: "Miguel" -> "Mig"' in result.stdout


def test_a_fresh_record_that_cannot_be_read_fails_its_contact_and_is_not_written(
        make_sandbox, tmp_path, monkeypatch):
    sandbox = make_sandbox(contacts=generate(5, 1))
    monkeypatch.setattr(Client, "get_individual",
                        lambda self, iid: {"id": iid, "contactMethods": "not a list"})
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "a.yaml").write_text("contact:\n  id: 1004\n  contactIndividuals:\n"
                                  "    - id: 2005\n      nickname: Mig\n")
    (plans / "b.yaml").write_text("contact:\n  id: 1005\n  informalName: Aiko J\n")
    result = run(sandbox, "apply", str(plans), "--auto-approve", "--audit-dir", str(tmp_path / "a"))
    assert result.exit_code == 1
    assert "contact 1004" in result.stdout and "FAILED after 0 writes" in result.stdout
    assert "contactMethods is not a list of objects" in result.stdout
    assert "contact 1005 (" in result.stdout  # the other contact still went ahead
    assert [r["path"] for r in sandbox.requests if r["method"] == "PUT"] == ["/api/Contact/1005"]
