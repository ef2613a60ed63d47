"""The sandbox as a test bed: quota, injected faults and latency, request log, admin edits,
state file, and the speed of many requests over one session."""
from __future__ import annotations

import json
import os
import time

import pytest
import requests


def test_every_api_answer_carries_rate_headers(sandbox, api):
    before = time.time()
    answer = api(sandbox).get(f"{sandbox.url}/api/Contact/1")
    assert answer.headers["X-RateLimit-Limit"] == "5000"
    assert answer.headers["X-RateLimit-Remaining"] == "4999"
    assert before + 3599 <= int(answer.headers["X-RateLimit-Reset"]) <= time.time() + 3601
    missing = api(sandbox).get(f"{sandbox.url}/api/Contact/99")
    assert missing.headers["X-RateLimit-Remaining"] == "4998"
    assert "X-RateLimit-Limit" in requests.get(f"{sandbox.url}/api/Contact/1").headers  # 401 too


def test_over_the_limit_is_429_with_retry_after(make_sandbox, api):
    server = make_sandbox(rate_limit=3, rate_window=60)
    session = api(server)
    remaining = [session.get(f"{server.url}/api/Contact/1").headers["X-RateLimit-Remaining"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    over = session.put(f"{server.url}/api/Contact/1", json={"description": "blocked"})
    assert over.status_code == 429 and over.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.headers["X-RateLimit-Remaining"] == "0"
    assert server.contact(1)["description"] == "Long-time supporters"


def test_quota_window_rolls_over(make_sandbox, api):
    server = make_sandbox(rate_limit=1, rate_window=0.3)
    session = api(server)
    assert session.get(f"{server.url}/api/Contact/1").status_code == 200
    assert session.get(f"{server.url}/api/Contact/1").status_code == 429
    time.sleep(0.35)
    assert session.get(f"{server.url}/api/Contact/1").status_code == 200


def test_admin_routes_are_free_and_unlogged(make_sandbox, api):
    server = make_sandbox(rate_limit=1)
    for _ in range(3):
        assert requests.get(f"{server.url}/_admin/contacts/1").status_code == 200
    assert requests.get(f"{server.url}/_admin/requests").json() == {"requests": []}
    assert api(server).get(f"{server.url}/api/Contact/1").status_code == 200
    requests.delete(f"{server.url}/_admin/quota")
    assert api(server).get(f"{server.url}/api/Contact/1").status_code == 200


def _statuses(server, session, count):
    out = []
    for _ in range(count):
        try:
            out.append(session.get(f"{server.url}/api/Contact/1", timeout=5).status_code)
        except requests.ConnectionError:
            out.append("drop")
    return out


def test_random_faults_are_reproducible_from_the_seed(make_sandbox, api):
    runs = []
    for seed in (7, 7, 8):
        server = make_sandbox(fault_rate=0.4, fault_seed=seed)
        runs.append(_statuses(server, api(server), 30))
    assert runs[0] == runs[1] != runs[2]
    assert {503, "drop", 200} <= set(runs[0])


def test_scheduled_faults_then_normal_answers(sandbox, api):
    assert requests.post(f"{sandbox.url}/_admin/faults",
                         json={"next": ["503", "drop", "429"]}).json()["queued"][0] == \
        {"fault": "503", "retry_after": 1}
    session = api(sandbox)
    first = session.get(f"{sandbox.url}/api/Contact/1")
    assert first.status_code == 503 and first.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    with pytest.raises(requests.ConnectionError):
        session.get(f"{sandbox.url}/api/Contact/1")
    third = session.get(f"{sandbox.url}/api/Contact/1")
    assert third.status_code == 429 and third.headers["Retry-After"] == "1"
    assert session.get(f"{sandbox.url}/api/Contact/1").status_code == 200
    assert [r["fault"] for r in sandbox.requests] == ["503", "drop", "429", None]
    assert [r["status"] for r in sandbox.requests] == [503, None, 429, 200]


def test_scheduled_429_retry_after_is_configurable(sandbox, api):
    sandbox.schedule_faults({"fault": "429", "retry_after": 0})
    assert api(sandbox).get(f"{sandbox.url}/api/Contact/1").headers["Retry-After"] == "0"
    assert requests.post(f"{sandbox.url}/_admin/faults", json={"next": ["boom"]}).status_code == 400


def test_faulted_writes_change_nothing(sandbox, api):
    sandbox.schedule_faults("503", "drop", "429")
    session = api(sandbox)
    for _ in range(3):
        try:
            session.put(f"{sandbox.url}/api/Contact/1", json={"description": "faulted"})
        except requests.ConnectionError:
            pass
    assert sandbox.contact(1)["description"] == "Long-time supporters"


def test_drop_after_commits_then_loses_the_answer(sandbox, api):
    sandbox.schedule_faults("drop-after")
    with pytest.raises(requests.ConnectionError):
        api(sandbox).put(f"{sandbox.url}/api/Contact/1", json={"description": "landed"})
    assert sandbox.contact(1)["description"] == "landed"


def test_injected_latency(make_sandbox, api):
    server = make_sandbox(latency=0.15)
    start = time.perf_counter()
    api(server).get(f"{server.url}/api/Contact/1")
    assert time.perf_counter() - start >= 0.15
    server.config.latency = 0.0
    start = time.perf_counter()
    requests.get(f"{server.url}/_admin/contacts/1")  # admin routes are never slowed
    api(server).get(f"{server.url}/api/Contact/1")
    assert time.perf_counter() - start < 0.15


def test_request_log_in_process_and_over_http_without_the_token(sandbox, api):
    session = api(sandbox)
    session.put(f"{sandbox.url}/api/Contact/2", json={"description": "hello"})
    session.get(f"{sandbox.url}/api/Contact/Find", params={"email": "nobody@x.example"})
    session.put(f"{sandbox.url}/api/Contact/2", data=b"{oops")
    requests.get(f"{sandbox.url}/api/Contact/1", headers={"Authorization": "Bearer wrong"})
    log = sandbox.requests
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("PUT", "/api/Contact/2", 200), ("GET", "/api/Contact/Find", 404),
        ("PUT", "/api/Contact/2", 400), ("GET", "/api/Contact/1", 401)]
    assert log[0]["body"] == {"description": "hello"} and log[2]["body"] == "{oops"
    assert log[1]["query"] == {"email": "nobody@x.example"}
    over_http = requests.get(f"{sandbox.url}/_admin/requests").json()["requests"]
    assert over_http == log
    assert sandbox.token not in json.dumps(log)
    assert requests.delete(f"{sandbox.url}/_admin/requests").status_code == 204
    assert sandbox.requests == []
    session.get(f"{sandbox.url}/api/Contact/1")
    sandbox.clear_log()
    assert sandbox.requests == []


def test_a_token_sent_in_a_body_is_masked_in_the_log(sandbox, api):
    api(sandbox).put(f"{sandbox.url}/api/Contact/2", json={"description": f"x {sandbox.token}"})
    assert sandbox.requests[0]["body"] == {"description": "x [token]"}


def test_admin_edit_over_http_changes_a_record_as_another_writer(sandbox, api):
    before = sandbox.contact(1)
    answer = requests.post(f"{sandbox.url}/_admin/contacts/1", json={
        "writer": "Jo in the office", "set": {"description": "Changed in the UI"},
        "individuals": {"12": {"nickname": "Johnny"}}, "addresses": {"202": None},
        "methods": {"102": {"value": "617-555-0177"}}})
    assert answer.status_code == 200
    after = sandbox.contact(1)
    assert answer.json() == after
    assert after["description"] == "Changed in the UI" and after["modifiedByUser"] == "Jo in the office"
    assert after["modifiedDateTimeUtc"] > before["modifiedDateTimeUtc"]
    assert after["contactIndividuals"][1]["nickname"] == "Johnny"
    assert [a["id"] for a in after["addresses"]] == [201]
    assert after["contactIndividuals"][0]["contactMethods"][1]["value"] == "617-555-0177"
    assert sandbox.requests == []
    assert requests.post(f"{sandbox.url}/_admin/contacts/99", json={"set": {}}).status_code == 404
    assert requests.get(f"{sandbox.url}/_admin/contacts/1").json() == after


def test_writer_edit_in_process(sandbox, api):
    sandbox.writer_edit(2, website="https://acme.example.org",
                        set={"address": {"city": "Salem"}},
                        individuals={21: {"contactMethods": [
                            {"type": "Home Email", "value": "pat@home.example"}]}})
    live = api(sandbox).get(f"{sandbox.url}/api/Contact/2").json()
    assert live["website"] == "https://acme.example.org" and live["modifiedByUser"] == "another writer"
    assert live["address"] == {**live["address"], "id": 203, "city": "Salem", "address1": "1 Main St"}
    assert live["contactIndividuals"][0]["contactMethods"][0]["id"] == 107  # new item, new id
    assert api(sandbox).get(f"{sandbox.url}/api/Contact/Find",
                            params={"email": "pat@home.example"}).json()["id"] == 2


def test_state_file_round_trip(make_sandbox, api, tmp_path):
    state = tmp_path / "state.json"
    first = make_sandbox(state_file=str(state), put_semantics="replace")
    assert not state.exists()  # written on the first write, not at start
    api(first).put(f"{first.url}/api/Contact/2", json={"name": "Acme Trust"})
    first.writer_edit(1, description="edited elsewhere")
    saved = json.loads(state.read_text())
    assert {c["id"]: c["name"] for c in saved["contacts"]}[2] == "Acme Trust"
    assert os.listdir(tmp_path) == ["state.json"]  # no temporary file left behind
    first.stop()
    second = make_sandbox(contacts=[], state_file=str(state))
    assert second.contact(2)["name"] == "Acme Trust"
    assert second.contact(1)["description"] == "edited elsewhere"
    assert second.contact(2)["contactIndividuals"] == []
    # ids continue after the saved ones; stamps stay increasing across restarts
    answer = api(second).put(f"{second.url}/api/ContactIndividual/11", json={"contactMethods": [
        {"id": 101}, {"type": "Home Phone", "value": "1"}]})
    assert answer.json()["contactMethods"][1]["id"] == 107
    assert second.contact(1)["modifiedDateTimeUtc"] > saved["contacts"][0]["modifiedDateTimeUtc"]


def test_state_write_is_atomic_and_a_failed_write_changes_nothing(make_sandbox, api, tmp_path,
                                                                   monkeypatch):
    state = tmp_path / "state.json"
    server = make_sandbox(state_file=str(state))
    api(server).put(f"{server.url}/api/Contact/2", json={"description": "saved"})
    saved = state.read_bytes()
    replaced = []

    def failing_replace(src, dst):
        replaced.append((os.path.dirname(src), os.path.basename(dst)))
        raise OSError("disk full")

    monkeypatch.setattr("planner.sandbox.store.os.replace", failing_replace)
    answer = api(server).put(f"{server.url}/api/Contact/2", json={"description": "lost"})
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "INTERNAL_ERROR"
    assert replaced == [(str(tmp_path), "state.json")]  # via a temporary file beside it
    assert state.read_bytes() == saved and os.listdir(tmp_path) == ["state.json"]
    assert server.contact(2)["description"] == "saved"


def test_concurrent_writes_are_serialised(sandbox, api):
    import concurrent.futures

    def write(i):
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {sandbox.token}"
            return session.put(f"{sandbox.url}/api/ContactIndividual/12", json={
                "contactMethods": [{"id": 104}, {"type": "Home Phone", "value": str(i)}]}).json()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(write, range(24)))
    new_ids = [a["contactMethods"][1]["id"] for a in answers]
    assert len(set(new_ids)) == 24  # no id handed out twice
    assert len(sandbox.contact(1)["contactIndividuals"][1]["contactMethods"]) == 2
