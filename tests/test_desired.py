"""Desired-state files: the format of issue 3, its typed result, its schema and its messages."""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from planner import desired, model, yamlsafe
from planner.desired_model import FIXED
from planner.desired import (DesiredContact, DesiredStateErrors, FrozenMap, IndividualSpec,
                             MethodSpec, ReferenceSpec)
from planner.errors import DesiredStateError, PlannerError

CASES = Path(__file__).parent / "desired_cases"
VALID = sorted((CASES / "valid").glob("*.yaml"))
INVALID = sorted((CASES / "invalid").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict:
    text = resources.files("planner").joinpath("schemas/desired.schema.json").read_text("utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_json(value):
    """What an editor sees: the YAML data with dates as ISO strings."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def yaml_data(path: Path):
    return as_json(yamlsafe.to_python(yamlsafe.compose(path.read_text("utf-8"))))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return str(path)


# --- the issue's example, exactly ----------------------------------------------------------

def test_issue_example_loads_to_the_typed_result():
    path = str(CASES / "valid" / "issue_example.yaml")
    got = desired.load_file(path)
    ind = "contact.contactIndividuals[0]"
    assert got == DesiredContact(
        file=path,
        sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        id=1042,
        find=None,
        fields={"name": "Smith Household", "informalName": "The Smiths"},
        is_archived=False,
        custom_fields={"Giving Tier": "Gold"},
        references=(ReferenceSpec("contact.contactReferences[0]", "Shop", "s-9"),
                    ReferenceSpec("contact.contactReferences[1]", "Legacy", "L-1", absent=True)),
        address={"address1": "12 Oak St", "postal": "62701"},
        individuals=(IndividualSpec(
            path=ind, id=None, match={"isPrimary": True},
            fields={"isDeceased": True, "deceasedDate": "2026-11-02"},
            methods=(
                MethodSpec(f"{ind}.contactMethods[0]", {"type": "Home Email", "isPrimary": True},
                           {"value": "jane.new@example.org"}),
                MethodSpec(f"{ind}.contactMethods[1]", None,
                           {"type": "Mobile Phone", "value": "555-0100", "isPrimary": True}),
                MethodSpec(f"{ind}.contactMethods[2]", {"value": "old@example.org"}, {},
                           absent=True),
            )),),
    )
    assert got.identity() == ("id", 1042)
    # fields keep the file's order (plans list changes in the order the user wrote them)
    assert list(got.fields) == ["name", "informalName"]


def test_result_is_immutable_and_hashable():
    got = desired.load_file(str(CASES / "valid" / "issue_example.yaml"))
    assert hash(got) == hash(desired.load_file(str(CASES / "valid" / "issue_example.yaml")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.id = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        got.fields["name"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        got.fields._data = {}  # type: ignore[attr-defined]
    assert isinstance(got.individuals, tuple) and isinstance(got.individuals[0].methods, tuple)
    assert FrozenMap({"a": 1}) == {"a": 1} and hash(FrozenMap({"a": 1})) == hash(FrozenMap([("a", 1)]))


def test_values_come_out_in_natural_types():
    got = desired.load_file(str(CASES / "valid" / "clearing_values.yaml"))
    assert got.fields == {"description": None, "anniversaryMonth": 6, "anniversaryDay": None,
                          "isPrivate": False}
    assert got.custom_fields == {"Giving Tier": None, "First Gift": "2024-05-01",
                                 "Notes: internal": "see #42"}
    assert got.address == {"address2": None, "state": "NO", "postal": "01234", "startMonth": 1}
    one = desired.load_file(str(CASES / "valid" / "individual_by_id.yaml")).individuals
    assert one[0].id == 88 and one[0].match is None
    assert one[0].fields == {"firstName": "Ana", "middleName": "", "birthDate": "1998-09-04",
                             "birthYear": 1998, "isSecondary": False}
    assert one[0].methods[1].absent and one[0].methods[1].fields == {
        "type": "Work Email", "value": "ana@work.example.org"}
    assert one[1].match == {"firstName": "Bob", "lastName": "Smith"}


@pytest.mark.parametrize("written", ["2026-11-02", '"2026-11-02"', "'2026-11-02'"])
def test_dates_as_yaml_date_or_iso_string(tmp_path, written):
    path = write(tmp_path, "d.yaml", "contact:\n  id: 1\n  contactIndividuals:\n"
                 f"    - id: 2\n      deceasedDate: {written}\n      birthDate: {written}\n")
    fields = desired.load_file(path).individuals[0].fields
    assert fields == {"deceasedDate": "2026-11-02", "birthDate": "2026-11-02"}


def test_identity_of_each_find_form():
    by_email = desired.load_file(str(CASES / "valid" / "find_by_email.yaml"))
    assert by_email.id is None and by_email.find == {"email": "Jane@Example.org"}
    assert by_email.identity() == ("email", "jane@example.org")
    by_ref = desired.load_file(str(CASES / "valid" / "find_by_reference.yaml"))
    assert by_ref.identity() == ("reference", "Portal", "p-77")
    assert by_ref.is_archived is True and by_ref.fields == {}


def test_crlf_and_bom_are_fine(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_bytes(b"\xef\xbb\xbfcontact:\r\n  id: 5\r\n  name: Windows\r\n")
    got = desired.load_file(str(path))
    assert (got.id, got.fields) == (5, {"name": "Windows"})


# --- schema -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_cases_load_and_match_the_schema(path, validator):
    assert isinstance(desired.load_file(str(path)), DesiredContact)
    errors = [e.message for e in validator.iter_errors(yaml_data(path))]
    assert errors == []


def _header(path: Path) -> dict[str, str]:
    head = {}
    for line in path.read_text("utf-8").splitlines():
        found = re.match(r"# (expect|message|schema): (.*)$", line)
        if not found:
            break
        head[found.group(1)] = found.group(2)
    return head


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_cases_give_one_clear_line(path, validator):
    head = _header(path)
    with pytest.raises(DesiredStateError) as info:
        desired.load_file(str(path))
    err = info.value
    assert (err.file, err.path) == (str(path), head["expect"])
    assert head["message"] in err.message
    assert str(err) == f"{path}: {head['expect']}: {err.message}"
    assert "\n" not in str(err) and re.search(r"\(line \d+\)$", err.message)
    schema_errors = list(validator.iter_errors(yaml_data(path)))
    # "accepts": checks the schema cannot express (duplicate items, calendar-invalid dates)
    assert bool(schema_errors) == (head["schema"] == "rejects")


def _field_schema(field: model.Field) -> dict:
    base = {"string": "string", "integer": "integer", "boolean": "boolean", "date": "string"}
    want = {"type": [base[field.kind], "null"] if field.nullable else base[field.kind]}
    if field.kind == "date":
        want.update(format="date", pattern=r"^\d{4}-\d{2}-\d{2}$")
    return want


def test_schema_fields_agree_with_the_model(schema):
    """The schema's allowed fields and types are planner.model's writable scalar fields."""
    defs = schema["$defs"]

    def scalars(resource):
        return {n: f for n, f in model.fields(resource).items()
                if not f.read_only and not f.lifecycle and f.kind not in ("object", "array")}

    places = {
        "contact": ("Contact", {"id", "find", "isArchived", "customFields", "contactReferences",
                                "address", "contactIndividuals"}),
        "address": ("ContactAddress", set()),
        "individual": ("ContactIndividual", {"id", "match", "contactMethods"}),
        "individualMatch": ("ContactIndividual", set()),
        "method": ("ContactMethod", {"match", "absent"}),
        "methodMatch": ("ContactMethod", set()),
    }
    for place, (resource, special) in places.items():
        props = defs[place]["properties"]
        settable = {n: f for n, f in scalars(resource).items()
                    if place != "address" or n not in FIXED["ContactAddress"]}
        assert set(props) == set(settable) | special, place
        assert defs[place]["additionalProperties"] is False
        for name, field in settable.items():
            assert props[name] == _field_schema(field), (place, name)
        # read-only and lifecycle fields are never settable through the file's plain fields
        assert not (model.read_only(resource) - {"id", "isArchived"}) & set(props)
    assert model.fields("Contact")["isArchived"].lifecycle
    assert set(defs["reference"]["properties"]) == {"source", "id", "absent"}
    assert [set(form["properties"]) for form in defs["find"]["oneOf"]] == [
        {"email"}, {"referenceSource", "referenceId"}]
    # ... and the loader accepts exactly the same keys at each place
    loader = desired.allowed_keys()
    for place in places:
        assert loader[place] == set(defs[place]["properties"]), place
    assert loader["find"] == {"email", "referenceSource", "referenceId"}


def test_unsupported_and_read_only_fields_are_not_in_the_schema(schema):
    contact = schema["$defs"]["contact"]["properties"]
    for name in ("customCollections", "tags", "organizationGroups", "modifiedDateTimeUtc",
                 "lifeToDateGiving", "contactViewUrl"):
        assert name not in contact
    assert "customFields" not in schema["$defs"]["individual"]["properties"]


# --- discovery ----------------------------------------------------------------------------

def test_discover_recurses_sorts_and_keeps_relative_paths(tmp_path, monkeypatch):
    for name in ("b.yaml", "a.yml", "sub/c.yaml", "sub/deeper/d.YAML", "notes.txt", "e.json"):
        write(tmp_path, f"plans/{name}", "contact: {id: 1}\n")
    monkeypatch.chdir(tmp_path)
    assert desired.discover(["plans"]) == [
        os.path.join("plans", "a.yml"), os.path.join("plans", "b.yaml"),
        os.path.join("plans", "sub", "c.yaml"), os.path.join("plans", "sub", "deeper", "d.YAML")]
    # a file is taken as is, whatever its name; the same file twice is loaded once
    assert desired.discover(["plans/notes.txt", "plans/b.yaml", "plans"])[:3] == [
        "plans/notes.txt", "plans/b.yaml", os.path.join("plans", "a.yml")]
    assert len(desired.discover(["plans/b.yaml", "plans"])) == 4


def test_discover_refuses_missing_and_empty(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "README.txt").write_text("no plans here")
    with pytest.raises(DesiredStateError, match=r"empty: \(top\): no \*\.yaml or \*\.yml files"):
        desired.discover([str(tmp_path / "empty")])
    with pytest.raises(DesiredStateError, match="no such file or directory"):
        desired.discover([str(tmp_path / "nope")])
    with pytest.raises(DesiredStateError, match="not a regular file or a directory"):
        desired.discover(["/dev/null"])


# --- several files ------------------------------------------------------------------------

def test_validate_paths_reports_every_error_of_every_file(tmp_path):
    write(tmp_path, "ok.yaml", "contact:\n  id: 1\n  name: Fine\n")
    bad = write(tmp_path, "bad.yaml", "contact:\n  id: 2\n  nmae: X\n  isPrivate: \"no\"\n"
                "  address: {postal: 62701}\n")
    worse = write(tmp_path, "worse.yaml", "contact: [\n")
    contacts, errors = desired.validate_paths([str(tmp_path)])
    assert [c.id for c in contacts] == [1]
    assert [str(e) for e in errors] == [
        f'{bad}: contact.nmae: unknown field "nmae"; did you mean `name`? (line 3)',
        f'{bad}: contact.isPrivate: expected true or false, got the string "no"; remove the '
        "quotes (line 4)",
        f'{bad}: contact.address.postal: expected a string, got an integer; quote it: "62701" '
        "(line 5)",
    ] + [str(e) for e in errors[3:]]
    assert len(errors) == 4 and errors[3].file == worse and errors[3].path == "contact"
    assert errors[3].message.startswith("invalid YAML: ") and "(line 2" in errors[3].message


@pytest.mark.parametrize("first,second", [
    ("id: 1042", "id: 1042"),
    ("find: {email: jane@example.org}", "find: {email: JANE@example.org}"),
    ("find: {referenceSource: Portal, referenceId: p-77}",
     "find: {referenceId: p-77, referenceSource: Portal}"),
])
def test_two_files_for_one_contact(tmp_path, first, second):
    a = write(tmp_path, "a.yaml", f"contact:\n  {first}\n  name: A\n")
    b = write(tmp_path, "b.yaml", f"contact:\n  {second}\n  name: B\n")
    contacts, errors = desired.validate_paths([str(tmp_path)])
    assert [c.file for c in contacts] == [a]
    assert len(errors) == 1 and errors[0].file == b
    assert a in errors[0].message and "keep one file per contact" in errors[0].message
    assert errors[0].path == ("contact.id" if first.startswith("id") else "contact.find")


def test_different_contacts_in_several_files_load(tmp_path):
    write(tmp_path, "a.yaml", "contact: {id: 1}\n")
    write(tmp_path, "b/b.yaml", "contact: {find: {email: b@example.org}}\n")
    write(tmp_path, "c.yml", "contact: {find: {referenceSource: S, referenceId: '1'}}\n")
    assert [c.identity() for c in desired.load_paths([str(tmp_path)])] == [
        ("id", 1), ("email", "b@example.org"), ("reference", "S", "1")]


def test_load_paths_raises_all_errors_at_once(tmp_path):
    write(tmp_path, "a.yaml", "contact: {id: 0}\n")
    write(tmp_path, "b.yaml", "contact: {name: x}\n")
    with pytest.raises(DesiredStateErrors) as info:
        desired.load_paths([str(tmp_path), str(tmp_path / "missing")])
    err = info.value
    assert isinstance(err, PlannerError) and len(err.errors) == 3
    assert err.lines() == str(err).splitlines() == [str(e) for e in err.errors]
    assert err.one_line() == f"{err.errors[0]} (and 2 more errors)"
    assert "missing: (top): no such file or directory" in err.lines()[0]


def test_errors_per_file_are_capped(tmp_path):
    path = write(tmp_path, "many.yaml", "contact:\n  id: 1\n  contactReferences:\n"
                 + "    - 5\n" * 500)
    contact, errors = desired.check_bytes(None, path)
    assert contact is None and len(errors) == desired.MAX_ERRORS_PER_FILE + 1
    assert str(errors[-1]) == f"{path}: (top): 450 more errors not shown"


def test_check_bytes_names_the_given_file():
    contact, errors = desired.check_bytes(b"contact: {id: 3, isArchived: true}\n", "x/y.yaml")
    assert errors == [] and contact is not None and contact.file == "x/y.yaml"
    assert contact.sha256 == hashlib.sha256(b"contact: {id: 3, isArchived: true}\n").hexdigest()
    with pytest.raises(DesiredStateError, match=r"^x/y\.yaml: contact\.id: "):
        desired.load_bytes(b"contact: {id: -3}\n", "x/y.yaml")
