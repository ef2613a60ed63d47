"""The live Contact typing, read from schemas/contact.schema.json.

One source of truth for the natural type of every field and for which fields are read-only.
The sandbox enforces it on writes; the normaliser coerces both spec-typed (string) and
natural values to it before anything is compared.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

RESOURCES = ("Contact", "ContactIndividual", "ContactAddress", "ContactMethod",
             "CustomField", "ContactReference")


@dataclass(frozen=True)
class Field:
    """The typing of one field of one resource."""

    name: str
    kind: str  # string | integer | boolean | date | datetime | money | object | array
    read_only: bool = False
    nullable: bool = True
    item: str | None = None  # resource name of array items / object, when it is one
    lifecycle: bool = False  # changed through Archive/Unarchive endpoints, never PUT


@lru_cache(maxsize=1)
def load_schema() -> dict:
    text = resources.files("planner").joinpath("schemas/contact.schema.json").read_text("utf-8")
    return json.loads(text)


def _field(name: str, spec: dict) -> Field:
    item = None
    if "$ref" in spec.get("items", {}):
        item = spec["items"]["$ref"].rsplit("/", 1)[-1]
    for alt in spec.get("oneOf", []):
        if "$ref" in alt:
            return Field(name, "object", bool(spec.get("readOnly")), True,
                         alt["$ref"].rsplit("/", 1)[-1])
    types = spec.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    nullable = "null" in types
    kind = next((t for t in types if t != "null"), "string")
    if kind == "string" and "x-kind" in spec:
        kind = spec["x-kind"]
    return Field(name, kind, bool(spec.get("readOnly")), nullable, item,
                 bool(spec.get("x-lifecycle")))


@lru_cache(maxsize=None)
def fields(resource: str) -> dict[str, Field]:
    """All fields of a resource ("Contact", "ContactIndividual", ...), by API name."""
    schema = load_schema()
    props = schema["properties"] if resource == "Contact" else schema["$defs"][resource]["properties"]
    return {name: _field(name, spec) for name, spec in props.items()}


def writable(resource: str) -> dict[str, Field]:
    """Fields a PUT of this resource may set (lifecycle flags excluded)."""
    return {n: f for n, f in fields(resource).items() if not f.read_only and not f.lifecycle}


def read_only(resource: str) -> frozenset[str]:
    return frozenset(n for n, f in fields(resource).items() if f.read_only)


def is_of_kind(value: Any, kind: str) -> bool:
    """Whether a value already has the natural JSON type of a field kind (None aside)."""
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("string", "date", "datetime", "money"):
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True
