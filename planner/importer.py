"""`planner import`: a desired-state file for a live contact, that plans as no change."""
from __future__ import annotations

from typing import Any, Iterable

import yaml

from planner import model
from planner.desired_model import FIXED
from planner.errors import ConfigError
from planner.normalize import canonical

NAME_FIELDS = ("contactType", "name", "informalName", "formalContactName", "alternateContactName",
               "preferredSalutationName", "preferredAddresseeName")
INDIVIDUAL_FIELDS = ("prefix", "firstName", "middleName", "lastName", "suffix", "nickname")
SECTIONS = ("isArchived", "customFields", "contactReferences", "address", "contactIndividuals")
DEFAULT_FIELDS = NAME_FIELDS + SECTIONS[1:]


def importable_fields() -> list[str]:
    scalars = [n for n, f in model.writable("Contact").items() if f.kind not in ("array", "object")]
    return scalars + list(SECTIONS)


def check_fields(fields: Iterable[str]) -> tuple[str, ...]:
    valid = importable_fields()
    chosen = tuple(f.strip() for f in fields if f.strip())
    for name in chosen:
        if name not in valid:
            import difflib
            hint = difflib.get_close_matches(name, valid, n=1)
            raise ConfigError(f"--fields: {name!r} is not an importable field"
                              + (f"; did you mean `{hint[0]}`?" if hint else "")
                              + f" (choose from: {', '.join(valid)})")
    return chosen


def _present(values: dict, names: Iterable[str]) -> dict:
    return {n: values[n] for n in names if values.get(n) is not None}


def desired_document(raw: dict, fields: Iterable[str] = DEFAULT_FIELDS) -> dict:
    """The desired-state document for a live record, naming `fields` with their live values."""
    live = canonical(raw)
    fields = tuple(fields)
    contact: dict[str, Any] = {"id": live["id"]}
    scalars = [f for f in fields if f not in SECTIONS]
    contact.update(_present(live["contact"], scalars))
    if "isArchived" in fields:
        contact["isArchived"] = live["isArchived"]
    if "customFields" in fields and live["contact"]["customFields"]:
        contact["customFields"] = dict(sorted(live["contact"]["customFields"].items()))
    if "contactReferences" in fields and live["contact"]["contactReferences"]:
        contact["contactReferences"] = [dict(v) for _, v in
                                        sorted(live["contact"]["contactReferences"].items())]
    if "address" in fields and live["address"]:
        settable = [f for f in model.writable("ContactAddress") if f not in FIXED["ContactAddress"]]
        address = _present(live["address"], settable)
        if address:
            contact["address"] = address
    if "contactIndividuals" in fields and live["individuals"]:
        individuals = []
        for ident, ind in sorted(live["individuals"].items(), key=lambda kv: int(kv[0])):
            item: dict[str, Any] = {"id": int(ident)}
            item.update(_present(ind, INDIVIDUAL_FIELDS))
            methods, seen = [], set()
            for _, method in sorted(ind["contactMethods"].items(), key=lambda kv: int(kv[0])):
                identity = (str(method.get("type")).casefold(), str(method.get("value")).casefold())
                if method.get("type") and method.get("value") and identity not in seen:
                    seen.add(identity)  # a duplicate (type, value) cannot be told apart anyway
                    methods.append(_present(method, ("type", "value", "isPrimary", "isOptedIn")))
            if methods:
                item["contactMethods"] = methods
            individuals.append(item)
        contact["contactIndividuals"] = individuals
    return {"contact": contact}


def to_yaml(document: dict, source: str) -> str:
    header = (f"# Desired state of contact {document['contact']['id']}, imported from {source}.\n"
              "# Remove the fields you do not want planner to manage; edit the others.\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
