"""Effective settings: command-line options, then environment, then planner.toml, then defaults.

Each value remembers where it came from, so `planner config` can explain itself.
"""
from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from planner.client import DEFAULT_API_URL
from planner.errors import ConfigError

CONFIG_NAME = "planner.toml"

DEFAULTS: dict[str, Any] = {
    "api_url": DEFAULT_API_URL,
    "plans": ["plans"],
    "audit_dir": "audit",
    "sensitive_fields": ["birthDate", "birthDay", "birthMonth", "birthYear", "deceasedDate"],
    "bulk_read": False,
}
ENVIRONMENT = {"api_url": "VIRTUOUS_API_URL"}


@dataclass(frozen=True)
class Setting:
    """One effective value and where it came from."""

    name: str
    value: Any
    source: str


def find_config(start: Path | None = None) -> Path | None:
    """planner.toml in the working directory or a parent, stopping at the repository root."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    section = data.get("planner", data)
    unknown = sorted(set(section) - set(DEFAULTS))
    if unknown:
        hint = difflib.get_close_matches(unknown[0], list(DEFAULTS), n=1)
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}"
                          + (f"; did you mean `{hint[0]}`?" if hint else "")
                          + f" (known: {', '.join(sorted(DEFAULTS))})")
    for name, value in section.items():
        expected = type(DEFAULTS[name])
        if not isinstance(value, expected):
            raise ConfigError(f"{path}: {name}: expected a {expected.__name__}")
    return section


class Settings:
    """The effective configuration of one planner invocation."""

    def __init__(self, options: Mapping[str, Any] | None = None,
                 environ: Mapping[str, str] | None = None, config_path: Path | None = None,
                 cwd: Path | None = None) -> None:
        environ = os.environ if environ is None else environ
        path = config_path or find_config(cwd)
        from_file = read_config(path) if path else {}
        self.config_path = path
        self._values: dict[str, Setting] = {}
        for name, default in DEFAULTS.items():
            option = (options or {}).get(name)
            env_name = ENVIRONMENT.get(name)
            if option not in (None, (), []):
                setting = Setting(name, option, "command line")
            elif env_name and environ.get(env_name):
                setting = Setting(name, environ[env_name], f"environment {env_name}")
            elif name in from_file:
                setting = Setting(name, from_file[name], str(path))
            else:
                setting = Setting(name, default, "default")
            self._values[name] = setting
        self._environ = environ
        self._token_file = (options or {}).get("token_file")

    def __getitem__(self, name: str) -> Any:
        return self._values[name].value

    def settings(self) -> list[Setting]:
        return list(self._values.values())

    def token(self) -> str:
        """The API token, from --token-file or VIRTUOUS_TOKEN; never stored elsewhere."""
        if self._token_file:
            try:
                token = Path(self._token_file).read_text("utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{self._token_file}: cannot read token file: "
                                  f"{exc.strerror}") from None
            if not token:
                raise ConfigError(f"{self._token_file}: token file is empty")
            return token
        token = self._environ.get("VIRTUOUS_TOKEN", "").strip()
        if not token:
            raise ConfigError("no API token: set VIRTUOUS_TOKEN or pass --token-file "
                              "(for the local sandbox, see `planner sandbox --help`)")
        return token

    def token_source(self) -> str:
        if self._token_file:
            return f"--token-file {self._token_file}"
        return "environment VIRTUOUS_TOKEN" if self._environ.get("VIRTUOUS_TOKEN") else "not set"
