"""The demo-data generator: deterministic, full-fidelity to the Contact schema, realistic enough."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime

import jsonschema
import pytest
from click.testing import CliRunner

from planner import model
from planner.sandbox.demodata import generate, main

SUB_RESOURCES = {  # array field -> resource of its items
    "addresses": "ContactAddress", "contactIndividuals": "ContactIndividual",
    "contactMethods": "ContactMethod", "customFields": "CustomField",
    "contactReferences": "ContactReference",
}
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$")
MONEY = re.compile(r"^\$\d{1,3}(,\d{3})*\.\d\d$")
EMAIL = re.compile(r"^[a-z0-9._]+@[a-z0-9.]+\.(com|net|org)$")
CATEGORY = {"Home Email": "email", "Work Email": "email",
            "Mobile Phone": "phone", "Home Phone": "phone"}


@pytest.fixture(scope="module")
def big() -> list[dict]:
    return generate(10_000, seed=7)


def individuals(contacts):
    return [i for c in contacts for i in c["contactIndividuals"]]


def methods(contacts):
    return [m for i in individuals(contacts) for m in i["contactMethods"]]


def addresses(contacts):
    return [a for c in contacts for a in c["addresses"]]


# -- determinism --------------------------------------------------------------------------

def test_same_count_and_seed_give_identical_output():
    assert generate(300, seed=3) == generate(300, seed=3)


def test_different_seeds_differ():
    a, b = generate(50, seed=1), generate(50, seed=2)
    assert a != b
    assert [c["name"] for c in a] != [c["name"] for c in b]


def test_fewer_contacts_are_a_prefix_of_more():
    # ids of the first demo contacts must not move when a benchmark asks for more
    assert generate(10, seed=5) == generate(60, seed=5)[:10]


def test_output_does_not_depend_on_string_hashing():
    code = ("import json; from planner.sandbox.demodata import generate;"
            "print(json.dumps(generate(40, 11)))")
    outputs = []
    for hash_seed in ("1", "98765"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1] == generate(40, 11)


# The example plans are written against generate(25, seed=1); a change to the generator that
# moves these values breaks them. Update the plans together with these anchors. The digest also
# pins the output across machines and Python versions (a change of random's algorithms shows here).
DIGEST_25_1 = "407c6f1d8da1781328463391f767e8830a21b035f0816e1627e953883a1dcacb"


def test_first_demo_contacts_are_anchored():
    first = generate(25, seed=1)
    assert first[0]["name"] == "William and Betty Allen"
    william, betty = first[0]["contactIndividuals"]
    assert (william["id"], betty["id"]) == (2001, 2002)
    assert william["contactMethods"][0] == {
        "id": 3001, "type": "Home Email", "value": "william.allen@example.com",
        "isOptedIn": False, "isPrimary": True, "canBePrimary": True}
    assert [a["id"] for a in first[0]["addresses"]] == [4001, 4002]
    assert first[1]["name"] == "Fairview Elementary PTA"
    assert first[2]["name"] == "Joshua Young" and first[2]["isArchived"] is True


def test_whole_fixture_digest_is_stable():
    text = json.dumps(generate(25, seed=1), sort_keys=True, ensure_ascii=True)
    assert hashlib.sha256(text.encode()).hexdigest() == DIGEST_25_1


def test_negative_count_is_refused():
    with pytest.raises(ValueError):
        generate(-1)
    assert generate(0) == []


# -- ids and uniqueness -------------------------------------------------------------------

def test_ids_are_sequential_per_resource_in_generation_order(big):
    assert [c["id"] for c in big] == list(range(1001, 1001 + len(big)))
    for rows, first in ((individuals(big), 2001), (methods(big), 3001), (addresses(big), 4001)):
        assert [r["id"] for r in rows] == list(range(first, first + len(rows)))


def test_individuals_point_at_their_contact(big):
    for contact in big:
        assert {i["contactId"] for i in contact["contactIndividuals"]} == {contact["id"]}


def test_emails_are_unique_and_valid_across_all_contacts(big):
    emails = [m["value"] for m in methods(big) if CATEGORY[m["type"]] == "email"]
    assert len(emails) > 10_000
    assert len({e.lower() for e in emails}) == len(emails)
    assert all(EMAIL.match(e) for e in emails)


def test_references_are_unique_per_source(big):
    refs = [(r["source"], r["id"]) for c in big for r in c["contactReferences"]]
    assert len(set(refs)) == len(refs)
    assert {s for s, _ in refs} == {"Portal", "Shop", "Legacy"}
    assert any(s == "Legacy" and i.startswith("0") for s, i in refs)


# -- guaranteed shapes --------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3, 17, 12345, 2**40])
def test_first_twelve_contacts_cover_the_example_shapes(seed):
    first = generate(25, seed)[:12]
    assert any(c["isArchived"] for c in first)
    assert any(c["contactType"] == "Household" and len(c["contactIndividuals"]) >= 2
               for c in first)
    assert any(len(c["addresses"]) >= 2 for c in first)
    assert any(c["contactType"] == "Organization" for c in first)
    assert any(r["source"] == "Legacy" for c in first for r in c["contactReferences"])


# -- realism and invariants ---------------------------------------------------------------

def test_mix_of_contacts_is_roughly_as_specified(big):
    n = len(big)
    kinds = Counter(c["contactType"] for c in big)
    assert set(kinds) == {"Household", "Organization"}
    assert 0.15 < kinds["Organization"] / n < 0.25
    assert 0.03 < sum(c["isArchived"] for c in big) / n < 0.08
    assert 0.15 < sum(len(c["addresses"]) >= 2 for c in big) / n < 0.25
    assert max(len(c["addresses"]) for c in big) == 3
    people = individuals(big)
    assert 0 < sum(i["isDeceased"] for i in people) < 0.05 * len(people)
    assert 0.2 < sum(i["birthDate"] is not None for i in people) / len(people) < 0.8
    assert sum(bool(c["contactReferences"]) for c in big) > n / 3
    assert sum(bool(c["customFields"]) for c in big) > n / 2


def test_individual_counts_by_contact_type(big):
    for contact in big:
        count = len(contact["contactIndividuals"])
        assert 1 <= count <= (3 if contact["contactType"] == "Household" else 2)
    households = [c for c in big if c["contactType"] == "Household"]
    assert {len(c["contactIndividuals"]) for c in households} == {1, 2, 3}


def test_exactly_one_primary_individual_and_it_is_alive(big):
    for contact in big:
        primary = [i for i in contact["contactIndividuals"] if i["isPrimary"]]
        assert len(primary) == 1 and not primary[0]["isDeceased"]
        assert sum(i["isSecondary"] for i in contact["contactIndividuals"]) <= 1


def test_at_most_one_primary_method_per_category_per_individual(big):
    for person in individuals(big):
        primaries = Counter(CATEGORY[m["type"]] for m in person["contactMethods"]
                            if m["isPrimary"])
        present = {CATEGORY[m["type"]] for m in person["contactMethods"]}
        assert set(primaries) == present  # one primary for each category present...
        assert all(v == 1 for v in primaries.values())  # ...and never two


def test_addresses_have_exactly_one_primary_when_any(big):
    for contact in big:
        flags = [a["isPrimary"] for a in contact["addresses"]]
        assert flags == [] or flags.count(True) == 1
    postals = [a["postal"] for a in addresses(big)]
    assert all(re.match(r"^\d{5}(-\d{4})?$", p) for p in postals)
    assert any(p.startswith("0") for p in postals)
    assert any(a["label"] == "Seasonal" and a["startMonth"] for a in addresses(big))


def test_birth_and_death_fields_agree(big):
    for person in individuals(big):
        parts = (person["birthYear"], person["birthMonth"], person["birthDay"])
        if person["birthDate"] is None:
            assert person["birthYear"] is None or person["birthMonth"] is None
        else:
            assert date.fromisoformat(person["birthDate"]) == date(*parts)
        if person["birthMonth"] is None:
            assert person["birthDay"] is None and person["birthYear"] is None
        if person["deceasedDate"] is not None:
            assert person["isDeceased"]
            assert date.fromisoformat(person["deceasedDate"]) <= date(2025, 12, 31)
        assert person["canBePrimary"] is (not person["isDeceased"])


def test_custom_fields_and_gift_summaries_are_coherent(big):
    values = {"Giving Tier": {"Bronze", "Silver", "Gold"}}
    for contact in big:
        fields = {f["name"]: f["value"] for f in contact["customFields"]}
        assert all(isinstance(v, str) for v in fields.values())
        assert all(f["displayName"] == f["name"] for f in contact["customFields"])
        assert fields.get("Giving Tier", "Bronze") in values["Giving Tier"]
        gave = contact["lifeToDateGiving"] != "$0.00"
        assert ("Giving Tier" in fields) == gave
        assert (contact["lastGiftDate"] is not None) == gave
        if contact["isArchived"]:
            assert "Lapsed" in contact["tags"]
        created = datetime.fromisoformat(contact["createDateTimeUtc"][:19])
        modified = datetime.fromisoformat(contact["modifiedDateTimeUtc"][:19])
        assert created < modified < datetime(2025, 7, 1)


# -- schema fidelity ----------------------------------------------------------------------

def check_value(value, field: model.Field, where: str) -> None:
    if value is None:
        assert field.nullable, f"{where} is null but not nullable"
        return
    assert model.is_of_kind(value, field.kind), f"{where}={value!r} is not {field.kind}"
    if field.kind == "date":
        assert date.fromisoformat(value).isoformat() == value, where
    elif field.kind == "datetime":
        assert DATETIME.match(value), where
    elif field.kind == "money":
        assert MONEY.match(value), where


def check_record(record: dict, resource: str, where: str) -> None:
    fields = model.fields(resource)
    expected = set(fields)
    if resource == "Contact":
        expected = expected - {"address"} | {"addresses"}
    assert set(record) == expected, f"{where}: {set(record) ^ expected}"
    for name, value in record.items():
        if name == "addresses":
            field = model.Field(name, "array", item="ContactAddress", nullable=False)
        else:
            field = fields[name]
        check_value(value, field, f"{where}.{name}")
        item = SUB_RESOURCES.get(name) if isinstance(value, list) else None
        for n, element in enumerate(value if item else []):
            check_record(element, item, f"{where}.{name}[{n}]")
        if name == "tags":
            assert all(isinstance(t, str) for t in value)
        if name in ("customCollections", "organizationGroups"):
            assert all(isinstance(x, dict) for x in value)


def test_every_record_has_exactly_the_schema_fields_with_natural_types():
    for seed in (1, 2, 3):
        for contact in generate(400, seed):
            check_record(contact, "Contact", f"contact {contact['id']}")


def test_get_shape_validates_against_the_json_schema():
    validator = jsonschema.Draft202012Validator(model.load_schema())
    for contact in generate(300, seed=4):
        get_shape = {k: v for k, v in contact.items() if k != "addresses"}
        get_shape["address"] = next((a for a in contact["addresses"] if a["isPrimary"]), None)
        errors = list(validator.iter_errors(get_shape))
        assert not errors, errors[0].message


# -- scale and the command line -----------------------------------------------------------

def test_ten_thousand_contacts_are_quick():
    started = time.perf_counter()
    contacts = generate(10_000, seed=99)
    assert time.perf_counter() - started < 20  # loose bound: about 1 s on a laptop
    assert len(contacts) == 10_000


def test_cli_writes_contacts_json_to_stdout():
    result = CliRunner().invoke(main, ["--count", "5", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"contacts": generate(5, 2)}


def test_cli_writes_compact_json_to_a_file(tmp_path):
    target = tmp_path / "seed.json"
    result = CliRunner().invoke(main, ["--count", "30", "--seed", "8", "-o", str(target),
                                       "--indent", "0"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    text = target.read_text("utf-8")
    assert text.count("\n") == 1
    assert json.loads(text) == {"contacts": generate(30, 8)}


def test_module_runs_with_python_dash_m(tmp_path):
    target = tmp_path / "out.json"
    subprocess.run([sys.executable, "-m", "planner.sandbox.demodata", "--count", "3",
                    "--seed", "1", "-o", str(target)], check=True, capture_output=True)
    assert json.loads(target.read_text("utf-8"))["contacts"] == generate(3, 1)
