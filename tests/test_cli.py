"""The command line as a newcomer meets it: help, version, usage errors, exit codes."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from planner import __version__
from planner.cli import cli

COMMANDS = ["validate", "plan", "show", "apply", "import", "history", "revert", "sandbox",
            "config"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"}, catch_exceptions=False)


def test_top_level_help_lists_every_command_and_the_exit_codes():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f"\n  {command} " in result.stdout
    assert "3 stale plan refused" in result.stdout and "VIRTUOUS_TOKEN" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_help_that_explains_it(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: cli {command}") or result.stdout.startswith("Usage:")
    description = result.stdout.split("\n\n")[1]
    assert len(description.split()) >= 6, description


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


@pytest.mark.parametrize("args", [["bogus"], ["plan", "--bogus"], ["show"],
                                  ["plan", "--format", "yaml"], ["--bogus"], []])
def test_usage_errors_exit_1_not_2_which_means_changes(args):
    result = invoke(*args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_validate_prints_one_line_per_problem(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("contact:\n  id: 7\n  nmae: Smith\n")
    result = invoke("validate", str(broken))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{broken}: contact.nmae: ")
    assert "did you mean `name`?" in first
    assert "Traceback" not in result.stderr


def test_validate_needs_no_token_and_makes_no_request(tmp_path, monkeypatch):
    import requests
    monkeypatch.setattr(requests.Session, "request",
                        lambda *a, **k: pytest.fail("validate made a request"))
    good = tmp_path / "good.yaml"
    good.write_text("contact:\n  id: 7\n  name: Smith\n")
    result = CliRunner().invoke(cli, ["validate", str(good)], env={"VIRTUOUS_TOKEN": ""})
    assert result.exit_code == 0 and "1 desired-state file valid." in result.stdout
