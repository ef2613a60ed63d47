"""planner.toml, environment and options: precedence, `planner config`, and bad values."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from planner.cli import cli
from planner.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", **(env or {})},
                              catch_exceptions=False)


def test_precedence_is_options_then_environment_then_file_then_defaults(tmp_path):
    (tmp_path / "planner.toml").write_text(
        '[planner]\napi_url = "https://file.example"\naudit_dir = "records"\n'
        'sensitive_fields = ["birthDate"]\n')
    settings = Settings({}, {}, cwd=tmp_path)
    assert settings["api_url"] == "https://file.example"
    assert settings["audit_dir"] == "records" and settings["plans"] == ["plans"]
    env = Settings({}, {"VIRTUOUS_API_URL": "https://env.example"}, cwd=tmp_path)
    assert env["api_url"] == "https://env.example"
    option = Settings({"api_url": "https://option.example"},
                      {"VIRTUOUS_API_URL": "https://env.example"}, cwd=tmp_path)
    assert option["api_url"] == "https://option.example"


def test_config_command_shows_values_and_their_sources(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "planner.toml").write_text('audit_dir = "records"\n')
    result = invoke("config", env={"VIRTUOUS_API_URL": "https://env.example",
                                   "VIRTUOUS_TOKEN": "secret-value-123"})
    assert result.exit_code == 0
    assert "api_url = https://env.example    # environment VIRTUOUS_API_URL" in result.stdout
    assert f"audit_dir = records    # {tmp_path / 'planner.toml'}" in result.stdout
    assert 'plans = ["plans"]    # default' in result.stdout
    assert "token = (hidden)    # environment VIRTUOUS_TOKEN" in result.stdout
    assert "secret-value-123" not in result.stdout


def test_plans_directory_from_the_file_is_used_by_validate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "planner.toml").write_text(f'plans = ["{ROOT / "plans"}"]\n')
    result = invoke("validate")
    assert result.exit_code == 0 and "7 desired-state files valid." in result.stdout


def test_sensitive_fields_are_configurable(tmp_path, monkeypatch):
    from planner.ops import FieldChange, Plan, ContactPlan, PutContact
    from planner.render import text
    change = FieldChange(("description",), "description", "update", "a", "b")
    plan = Plan((ContactPlan(1, "x", "f.yaml", {}, (PutContact(1, (change,), "f.yaml"),)),))
    assert "(sensitive)" in text.render(plan, sensitive=["description"])
    assert '"a" -> "b"' in text.render(plan, sensitive=[])


def test_a_broken_config_file_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "planner.toml").write_text("audit_dir = \n")
    result = invoke("config")
    assert result.exit_code == 1 and "planner.toml: cannot read" in result.stderr
    (tmp_path / "planner.toml").write_text('audti_dir = "x"\n')
    result = invoke("config")
    assert result.exit_code == 1 and "unknown setting 'audti_dir'" in result.stderr
    (tmp_path / "planner.toml").write_text('plans = "plans"\n')
    result = invoke("config")
    assert result.exit_code == 1 and "plans: expected a list" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_token_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plan", str(ROOT / "plans"), env={"VIRTUOUS_TOKEN": ""})
    assert result.exit_code == 1
    assert "no API token: set VIRTUOUS_TOKEN or pass --token-file" in result.stderr
