"""The API token never leaks: every command, at its most verbose, against a sandbox whose
token is recognisable; everything produced is searched for it."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from planner.client import Client
from planner.errors import ConfigError
from planner.sandbox.demodata import generate
from tests.golden import run

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-LEAKCANARY-3b9f2e7c41d8a6"
WRONG = "tok-WRONGCANARY-9a8b7c6d5e4f"


def produced_files(folder: Path) -> dict[str, str]:
    return {str(p): p.read_text("utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def canary(make_sandbox):
    return make_sandbox(contacts=generate(25, 1), token=TOKEN)


def test_no_command_prints_logs_or_stores_the_token(canary, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)
    plans = str(ROOT / "plans")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    audit = str(tmp_path / "audit")
    commands = [
        ["-vv", "validate", plans],
        ["-vv", "plan", plans, "-o", "plan.json", "--split", "parts"],
        ["-vv", "plan", plans, "--format", "json"],
        ["-vv", "plan", plans, "--format", "markdown"],
        ["-vv", "show", "plan.json"],
        ["-vv", "apply", "plan.json", "--audit-dir", audit],
        ["-vv", "history", "--audit-dir", audit],
        ["-vv", "import", "1001", "-o", "imported/1001.yaml"],
        ["-vv", "import", "--email", "jyoung@post.example.org"],
        ["-vv", "config"],
        ["-vv", "plan", plans, "--token-file", str(token_file)],
        ["-vv", "plan", str(tmp_path / "missing")],           # an error path
        ["-vv", "import", "424242"],                          # an API error (404)
    ]
    outputs = []
    for args in commands:
        result = run(canary, *args)
        outputs += [result.stdout, result.stderr]
    run_id = next(Path(audit).glob("*.jsonl")).stem.rsplit("-", 1)[1]
    result = run(canary, "-vv", "revert", run_id, "-o", "revert.json", "--audit-dir", audit)
    outputs += [result.stdout, result.stderr]
    wrong = run(canary, "-vv", "plan", plans, env={"VIRTUOUS_TOKEN": WRONG})
    assert wrong.exit_code == 1 and "HTTP 401" in wrong.stderr
    outputs += [wrong.stdout, wrong.stderr]
    outputs += [r.getMessage() for r in caplog.records]
    assert any("GET /api/Contact/1001 -> 200" in text for text in outputs)  # it did log
    for text in outputs:
        assert TOKEN not in text and WRONG not in text
    files = produced_files(tmp_path)
    files.pop(str(token_file))
    assert any(name.endswith(".jsonl") for name in files)  # audit records were searched
    for name, text in files.items():
        assert TOKEN not in text, name
    for entry in canary.requests:  # the sandbox's own request log
        assert TOKEN not in repr(entry)


def test_exceptions_never_carry_the_token(canary):
    client = Client(canary.url, WRONG)
    with pytest.raises(Exception) as caught:
        client.get_contact(1001)
    assert WRONG not in str(caught.value) and WRONG not in repr(caught.value)
    assert WRONG not in repr(client) and WRONG not in repr(vars(client).get("exchanges"))


def test_plain_http_to_another_host_is_refused_with_the_reason(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as caught:
        Client("http://crm.example.org", TOKEN)
    assert "unencrypted" in str(caught.value) and TOKEN not in str(caught.value)
    monkeypatch.chdir(tmp_path)
    result = run(type("S", (), {"url": "http://crm.example.org", "token": TOKEN})(),
                 "plan", str(ROOT / "plans"))
    assert result.exit_code == 1
    assert "refusing plain http:// to crm.example.org" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_tls_verification_is_always_on():
    client = Client("https://api.virtuoussoftware.com", TOKEN)
    assert client.session.verify is True
