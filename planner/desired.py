"""Load and validate desired-state files: YAML in, typed frozen desired contacts out.

Every problem becomes a DesiredStateError `FILE: PATH: message` (one line, with the line number
when known). The result types live in desired_model, the validation walk in desired_check.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from planner.desired_check import MAX_ERRORS_PER_FILE, Check  # noqa: F401
# The types and key tables are part of this module's interface: loaders return them.
from planner.desired_model import (CONTACT_KEYS, DesiredContact, DesiredStateErrors,  # noqa: F401
                                   FrozenMap, IndividualSpec, MethodSpec, ReferenceSpec,
                                   allowed_keys, scalar_fields)
from planner.errors import DesiredStateError
from planner.yamlsafe import YamlProblem, compose, decode, format_path, read_limited

YAML_SUFFIXES = (".yaml", ".yml")


# --- discovery ------------------------------------------------------------------------------

def _discover(paths: Sequence[str]) -> tuple[list[str], list[DesiredStateError]]:
    found: list[str] = []
    errors: list[DesiredStateError] = []
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            here = []
            for root, dirs, names in os.walk(given):
                dirs.sort()
                here += [os.path.join(root, n) for n in names if n.lower().endswith(YAML_SUFFIXES)]
            if not here:
                errors.append(DesiredStateError(given, "", "no *.yaml or *.yml files in this "
                                                "directory (searched recursively)"))
            candidates = sorted(here)
        elif os.path.isfile(given):
            candidates = [given]
        elif os.path.exists(given):
            errors.append(DesiredStateError(given, "", "not a regular file or a directory"))
            continue
        else:
            errors.append(DesiredStateError(given, "", "no such file or directory"))
            continue
        for path in candidates:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(path)
    return found, errors


def discover(paths: Sequence[str]) -> list[str]:
    """Desired-state files under `paths`: *.yaml/*.yml found recursively in directories, sorted;
    a path naming a file is taken as is. Raises DesiredStateError for a missing path or a
    directory without YAML files."""
    found, errors = _discover(paths)
    if errors:
        raise errors[0]
    return found


# --- loading --------------------------------------------------------------------------------

def check_bytes(data: bytes | None, file: str) -> tuple[DesiredContact | None,
                                                      list[DesiredStateError]]:
    """The contact a file's content describes and every error in it (contact None on errors);
    with `data` None the file is read (size-limited) first."""
    try:
        if data is None:
            data = read_limited(file)
        root = compose(decode(data))
    except YamlProblem as problem:
        return None, [DesiredStateError(file, format_path(problem.path), problem.located())]
    except OSError as exc:
        return None, [DesiredStateError(file, "", f"cannot read: {exc.strerror or exc}")]
    if root is None:
        empty = not data.strip(b" \t\r\n\xef\xbb\xbf")
        return None, [DesiredStateError(file, "", "the file is empty" if empty else
                                        "the file holds only comments; expected `contact:`")]
    check = Check(file)
    contact = check.document(root, hashlib.sha256(data).hexdigest())
    errors = check.errors
    if check.hidden:
        errors.append(DesiredStateError(file, "", f"{check.hidden} more errors not shown"))
    return (None if errors else contact), errors


def load_bytes(data: bytes, file: str) -> DesiredContact:
    """Validate the content of a desired-state file; `file` names it in messages."""
    contact, errors = check_bytes(data, file)
    if errors:
        raise errors[0]
    assert contact is not None
    return contact


def load_file(path: str) -> DesiredContact:
    """Read and validate one desired-state file; raises its first DesiredStateError."""
    contact, errors = check_bytes(None, path)
    if errors:
        raise errors[0]
    assert contact is not None
    return contact


def validate_paths(paths: Sequence[str]) -> tuple[list[DesiredContact], list[DesiredStateError]]:
    """Every valid contact and every error under `paths` (offline: no request, no token)."""
    files, errors = _discover(paths)
    contacts: list[DesiredContact] = []
    owners: dict[tuple, DesiredContact] = {}
    for path in files:
        contact, problems = check_bytes(None, path)
        errors += problems
        if contact is None:
            continue
        first = owners.get(contact.identity())
        if first is not None:
            where = "contact.id" if contact.id is not None else "contact.find"
            errors.append(DesiredStateError(path, where, f"{contact.describe()} is also described "
                                            f"by {first.file}; keep one file per contact"))
            continue
        owners[contact.identity()] = contact
        contacts.append(contact)
    return contacts, errors


def load_paths(paths: Sequence[str]) -> list[DesiredContact]:
    """All desired contacts under `paths`; raises DesiredStateErrors listing every problem."""
    contacts, errors = validate_paths(paths)
    if errors:
        raise DesiredStateErrors(errors)
    return contacts
