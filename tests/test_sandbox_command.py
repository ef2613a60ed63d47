"""`planner sandbox` as a user runs it: a subprocess that prints its URL and token and serves."""
from __future__ import annotations

import json
import os
import queue
import stat
import subprocess
import sys
import threading

import requests
from click.testing import CliRunner

from planner.sandbox.command import sandbox_command
from tests.sandbox_seed import seed_contacts


class Sandbox:
    """A `python -m planner.sandbox.command` subprocess and the lines it printed."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "planner.sandbox.command", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = self._line("Sandbox CRM+ listening on ").split()[-1]
        self.token = self._line("token: ").split()[-1]
        self.exports = [self._line("export "), self._line("export ")]

    def _pump(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.put(line.rstrip("\n"))

    def _line(self, prefix: str) -> str:
        line = self.lines.get(timeout=30)
        assert line.startswith(prefix), line
        return line

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=10)
        finally:
            self.process.stderr.close()  # type: ignore[union-attr]


def test_command_prints_url_and_token_serves_and_stops_cleanly(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"contacts": seed_contacts()}))
    token_file, state = tmp_path / "token", tmp_path / "state.json"
    common = ["--seed", str(seed), "--token-file", str(token_file), "--state", str(state)]
    first = Sandbox("--put-semantics", "replace", *common)
    try:
        assert first.url.startswith("http://127.0.0.1:") and len(first.token) >= 32
        assert first.exports == [f"export VIRTUOUS_API_URL={first.url}",
                                 f"export VIRTUOUS_TOKEN={first.token}"]
        assert token_file.read_text().strip() == first.token
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        headers = {"Authorization": f"Bearer {first.token}"}
        assert requests.get(f"{first.url}/api/Contact/1", headers=headers).json()["name"] == \
            "The Smith Family"
        answer = requests.put(f"{first.url}/api/Contact/2", headers=headers,
                              json={"name": "Acme Foundation"})
        assert answer.json()["website"] is None  # replace semantics: the omitted field is cleared
    finally:
        assert first.stop() == 0
    second = Sandbox(*common)  # the state file and the token file carry over
    try:
        assert second.token == first.token
        contact = requests.get(f"{second.url}/api/Contact/2",
                               headers={"Authorization": f"Bearer {second.token}"}).json()
        assert contact["website"] is None and contact["modifiedByUser"] == "API"
    finally:
        assert second.stop() == 0


def test_command_help_teaches_every_option():
    text = CliRunner().invoke(sandbox_command, ["--help"]).output
    for option in ("--host", "--port", "--put-semantics", "--string-typed", "--seed",
                   "--demo-contacts", "--state", "--token-file", "--rate-limit", "--latency",
                   "--fault-rate", "--fault-seed", "/_admin/faults"):
        assert option in text, option


def test_command_rejects_a_bad_seed_file(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"people": []}))
    result = CliRunner().invoke(sandbox_command, ["--port", "0", "--seed", str(seed)])
    assert result.exit_code == 2 and "--seed" in result.output
