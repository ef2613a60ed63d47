"""Shared helpers for golden-case and end-to-end tests: run the CLI, snapshot and compare
live records, and compute the minimal request sequence a plan implies."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner

from planner.cli import cli

CASES = Path(__file__).parent / "cases"
IGNORED = {("modifiedDateTimeUtc",), ("modifiedByUser",)}


def run(sandbox, *args: str, input: str | None = None, env: dict | None = None):
    """Invoke the planner CLI in-process against a sandbox."""
    environ = {"VIRTUOUS_API_URL": sandbox.url, "VIRTUOUS_TOKEN": sandbox.token, "NO_COLOR": "1"}
    environ.update(env or {})
    return CliRunner().invoke(cli, list(args), input=input, env=environ, catch_exceptions=False)


def api_get(sandbox, path: str) -> Any:
    answer = requests.get(sandbox.url + path, headers={"Authorization": f"Bearer {sandbox.token}"},
                          timeout=10)
    answer.raise_for_status()
    return answer.json()


def snapshot(sandbox, contact_id: int) -> dict:
    """Everything the API shows of a contact, including its non-primary addresses."""
    contact = api_get(sandbox, f"/api/Contact/{contact_id}")
    contact["addresses"] = api_get(sandbox, f"/api/ContactAddress/ByContact/{contact_id}")
    return contact


def _key(item: dict) -> str | None:
    if "source" in item and "id" in item and len(item) <= 3 and "type" not in item:
        return f"{item['source']}:{item['id']}"
    if "name" in item and "value" in item and "id" not in item:
        return str(item["name"])
    if "id" in item:
        return str(item["id"])
    return None


def flatten(value: Any, prefix: tuple = ()) -> dict[tuple, Any]:
    """Leaves by path, lists of records keyed by identity (id, name, source:id)."""
    out: dict[tuple, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, prefix + (k,)))
    elif isinstance(value, list) and value and all(isinstance(i, dict) and _key(i) for i in value):
        for item in value:
            out.update(flatten(item, prefix + (_key(item),)))
    else:
        out[prefix] = value
    return out


def planned_prefixes(plan_doc: dict) -> list[tuple]:
    """Where in a snapshot the plan is allowed to change things."""
    prefixes = []
    for contact in plan_doc["contacts"]:
        for op in contact["operations"]:
            for change in op["changes"]:
                path = tuple(change["path"])
                if op["kind"] in ("archive", "unarchive"):
                    prefixes.append(("isArchived",))
                elif op["kind"] == "put_contact":
                    prefixes.append(path)
                elif op["kind"] == "put_individual":
                    base = ("contactIndividuals", str(op["resource_id"]))
                    if path[0] == "contactMethods" and path[1].startswith("new:"):
                        prefixes.append(base + ("contactMethods",))  # a new item, id unknown
                    else:
                        prefixes.append(base + path)
                elif op["kind"] == "put_address":
                    prefixes.append(("addresses", str(op["resource_id"])) + path)
                    prefixes.append(("address",) + path)
    return prefixes


def unplanned_differences(before: dict, after: dict, plan_doc: dict) -> dict:
    """Leaves that changed although the plan did not name them (must be empty)."""
    allowed = planned_prefixes(plan_doc)
    flat_before, flat_after = flatten(before), flatten(after)
    out = {}
    for path in set(flat_before) | set(flat_after):
        if path in IGNORED or any(path[:len(p)] == p for p in allowed):
            continue
        if flat_before.get(path, "<absent>") != flat_after.get(path, "<absent>"):
            out[path] = (flat_before.get(path, "<absent>"), flat_after.get(path, "<absent>"))
    return out


def expected_requests(plan_doc: dict, planned_via_find: dict[int, bool] | None = None) -> list[tuple[str, str]]:
    """The minimal requests of `apply PATHS`: plan reads, then per changed contact a guard
    GET, a fresh GET and a PUT per record write, one call per archive transition, and the
    verifying GET."""
    seq: list[tuple[str, str]] = []
    for contact in plan_doc["contacts"]:
        cid = contact["contact_id"]
        seq.append(("GET", "/api/Contact/Find" if (planned_via_find or {}).get(cid)
                    else f"/api/Contact/{cid}"))
    changed = [c for c in plan_doc["contacts"] if c["operations"]]
    for contact in changed:
        seq.append(("GET", f"/api/Contact/{contact['contact_id']}"))
    for contact in changed:
        for op in contact["operations"]:
            if op["kind"] not in ("archive", "unarchive"):
                seq.append(("GET", op["path"]))
            seq.append(("PUT", op["path"]))
        seq.append(("GET", f"/api/Contact/{contact['contact_id']}"))
    return seq


def load_case(name: str) -> tuple[dict, Path]:
    folder = CASES / name
    return json.loads((folder / "live.json").read_text()), folder
