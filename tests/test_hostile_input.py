"""Hostile and broken desired-state files (issue 5): one clear line naming file and place,
never a traceback, never a hang, never a request; with libyaml and with the pure-Python parser.
"""
from __future__ import annotations

import copy
import csv
import datetime
import json
import os
import socket
import time
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import desired, model, yamlsafe
from planner.desired_model import FIXED
from planner.errors import DesiredStateError

CORPUS = Path(__file__).parent / "hostile"
FAST = 1.0  # seconds; every refusal below takes milliseconds


def _rows() -> list[list[str]]:
    lines = [line for line in (CORPUS / "expected.tsv").read_text("utf-8").splitlines()
             if line and not line.startswith("#")]
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == ["file", "path", "message", "line"]
    return rows[1:]


ROWS = _rows()


@pytest.fixture(params=["libyaml", "pure-python"])
def parser(request, monkeypatch):
    """Run a test with each YAML parser planner may use."""
    if request.param == "libyaml":
        if not hasattr(yaml, "CSafeLoader"):
            pytest.skip("PyYAML built without libyaml")
        monkeypatch.setattr(yamlsafe, "LOADER", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(yamlsafe, "LOADER", yaml.SafeLoader)
    return request.param


@pytest.fixture
def no_network(monkeypatch):
    """Loading is offline: any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("desired-state loading tried to use the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def assert_clean(err: DesiredStateError, file: str) -> None:
    text = str(err)
    assert text == f"{file}: {err.path}: {err.message}"
    assert len(text.splitlines()) == 1 and "Traceback" not in text
    assert all(c.isprintable() for c in err.path + err.message), text
    assert len(err.path) <= 300 and len(err.message) <= 400, text
    assert err.path and err.message


def test_every_corpus_file_has_a_row():
    on_disk = {p.name for p in CORPUS.iterdir()} - {"expected.tsv"}
    assert on_disk == {row[0] for row in ROWS}


@pytest.mark.parametrize("name,path,fragment,line", ROWS, ids=[r[0] for r in ROWS])
def test_hostile_file(parser, no_network, name, path, fragment, line):
    file = str(CORPUS / name)
    start = time.perf_counter()
    with pytest.raises(DesiredStateError) as info:
        desired.load_file(file)
    assert time.perf_counter() - start < FAST
    err = info.value
    assert_clean(err, file)
    assert err.path == path
    assert fragment in err.message
    if line == "-":
        assert "(line" not in err.message
    else:
        assert f"(line {line}" in err.message


def test_whole_corpus_validates_to_errors_only(parser, no_network):
    contacts, errors = desired.validate_paths([str(CORPUS)])
    assert contacts == []
    named = {Path(e.file).name for e in errors}
    assert named == {row[0] for row in ROWS}
    for err in errors:
        assert_clean(err, err.file)


def test_wrong_types_everywhere_reports_each_place(parser):
    file = str(CORPUS / "wrong_types_everywhere.yaml")
    _, errors = desired.check_bytes(None, file)
    assert [(e.path, e.message) for e in errors] == [
        ("contact.id", "expected an integer, got a list (line 2)"),
        ("contact.name", "expected a string, got a mapping (line 3)"),
        ("contact.isPrivate", 'expected true or false, got the string "no"; remove the quotes '
         "(line 4)"),
        ("contact.anniversaryMonth", "expected an integer, got a string (line 5)"),
        ("contact.isArchived", "expected true or false, got a string (line 6)"),
        ("contact.customFields", "expected a mapping of custom field names to values, got a "
         "list (line 7)"),
        ("contact.contactReferences", "expected a list of references, got a mapping (line 8)"),
        ("contact.address", "expected a mapping of address fields, got a string (line 9)"),
        ("contact.contactIndividuals[0].match", "expected a mapping of fields to match, got "
         "the boolean true (line 11)"),
        ("contact.contactIndividuals[0].isDeceased", "expected true or false, got an integer "
         "(line 12)"),
        ("contact.contactIndividuals[0].deceasedDate", "expected a date like 2026-11-02, got a "
         "string (line 13)"),
        ("contact.contactIndividuals[0].contactMethods", "expected a list of contact methods, "
         "got a string (line 14)"),
        ("contact.contactIndividuals[1]", "expected a mapping selecting one individual (id or "
         "match), got an integer (line 15)"),
    ]


# --- generated cases, too big to check in ------------------------------------------------

def test_huge_file_is_refused_before_reading(parser, tmp_path, monkeypatch):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:  # sparse: a gigabyte that costs no disk and no time
        handle.truncate(1024 ** 3)
    reads = []
    real_open = open

    def watching_open(file, *args, **kwargs):
        reads.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watching_open)
    start = time.perf_counter()
    with pytest.raises(DesiredStateError) as info:
        desired.load_file(str(path))
    assert time.perf_counter() - start < FAST
    assert str(path) not in map(str, reads)
    assert_clean(info.value, str(path))
    assert info.value.message == (f"file is too large ({1024 ** 3:,} bytes; the limit is "
                                  f"{yamlsafe.MAX_BYTES:,})")


def test_file_just_over_the_limit_and_one_at_the_limit(parser, tmp_path):
    body = b"contact:\n  id: 1\n  name: Big\n"
    at_limit = body + b"#" * (yamlsafe.MAX_BYTES - len(body) - 1) + b"\n"
    assert len(at_limit) == yamlsafe.MAX_BYTES
    (tmp_path / "at.yaml").write_bytes(at_limit)
    assert desired.load_file(str(tmp_path / "at.yaml")).fields == {"name": "Big"}
    (tmp_path / "over.yaml").write_bytes(at_limit + b"\n")
    with pytest.raises(DesiredStateError, match="file is too large"):
        desired.load_file(str(tmp_path / "over.yaml"))
    with pytest.raises(DesiredStateError, match="file is too large"):
        desired.load_bytes(at_limit + b"\n", "over.yaml")


@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b"{a: ", b"}"), (b"\n    - ", b"")])
def test_very_deep_nesting_stops_at_the_limit_quickly(parser, opener, closer):
    depth = 100_000
    if opener.endswith(b"- "):  # "- - - - x": compact nested block sequences
        opener = opener + b"- " * depth
        depth = 1
    data = b"contact:\n  name: " + opener * depth + b"x" + closer * depth + b"\n"
    start = time.perf_counter()
    with pytest.raises(DesiredStateError) as info:
        desired.load_bytes(data, "deep.yaml")
    assert time.perf_counter() - start < FAST
    assert_clean(info.value, "deep.yaml")
    assert f"nested deeper than {yamlsafe.MAX_DEPTH} levels" in info.value.message


def test_messages_stay_short_whatever_the_keys(parser):
    # 40 levels of 60-character keys: the path keeps its two ends, the line stays short
    keys = [f"k{i:02d}" + "k" * 57 for i in range(40)]
    data = "contact:\n" + "".join("  " * (i + 1) + f"{k}:\n" for i, k in enumerate(keys))
    data += "  " * 41 + "x\n"
    with pytest.raises(DesiredStateError) as info:
        desired.load_bytes(data.encode(), "long.yaml")
    assert_clean(info.value, "long.yaml")
    assert "nested deeper than 32 levels" in info.value.message
    assert info.value.path.startswith(f"contact.{keys[0]}.") and "..." in info.value.path
    assert info.value.path.endswith(keys[30])


def test_nesting_just_under_the_limit_is_parsed(parser):
    # 30 nested lists under contact.name: a normal "wrong type" error, not a depth refusal
    data = b"contact:\n  id: 1\n  name: " + b"[" * 30 + b"]" * 30 + b"\n"
    with pytest.raises(DesiredStateError, match="expected a string, got a list"):
        desired.load_bytes(data, "ok-depth.yaml")


def test_wide_alias_bomb_finishes_fast(parser):
    lines = [b'a0: &a0 ["' + b"x" * 100 + b'"]']
    for i in range(1, 30):
        lines.append(b"a%d: &a%d [" % (i, i) + b",".join([b"*a%d" % (i - 1)] * 10) + b"]")
    data = b"\n".join(lines) + b"\ncontact: {id: 1, name: *a29}\n"
    start = time.perf_counter()
    with pytest.raises(DesiredStateError, match=r"anchors \(&a0\) are not supported"):
        desired.load_bytes(data, "bomb.yaml")
    assert time.perf_counter() - start < FAST


def test_alias_without_anchor_is_refused(parser):
    with pytest.raises(DesiredStateError) as info:
        desired.load_bytes(b"contact:\n  id: 1\n  name: *nowhere\n", "alias.yaml")
    assert_clean(info.value, "alias.yaml")
    assert info.value.path == "contact.name"


def test_directory_without_yaml_files(tmp_path, no_network):
    (tmp_path / "plans" / "drafts").mkdir(parents=True)
    (tmp_path / "plans" / "notes.md").write_text("nothing to plan")
    contacts, errors = desired.validate_paths([str(tmp_path / "plans")])
    assert contacts == []
    assert [str(e) for e in errors] == [
        f"{tmp_path / 'plans'}: (top): no *.yaml or *.yml files in this directory (searched "
        "recursively)"]


def test_fifo_and_device_files_are_not_read(tmp_path):
    (tmp_path / "plans").mkdir()
    os.mkfifo(tmp_path / "plans" / "pipe.yaml")  # opening it for reading would block forever
    (tmp_path / "plans" / "zero.yaml").symlink_to("/dev/zero")
    start = time.perf_counter()
    contacts, errors = desired.validate_paths([str(tmp_path / "plans")])
    assert time.perf_counter() - start < FAST
    assert contacts == [] and [(Path(e.file).name, e.message) for e in errors] == [
        ("pipe.yaml", "not a regular file"), ("zero.yaml", "not a regular file")]


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.yaml"
    path.write_text("contact: {id: 1}\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(yamlsafe, "open", denied, raising=False)  # chmod 0 means nothing to root
    with pytest.raises(DesiredStateError) as info:
        desired.load_file(str(path))
    assert str(info.value) == f"{path}: (top): cannot read: Permission denied"


def test_too_many_errors_stay_bounded(parser):
    data = b"contact:\n  id: 1\n  contactReferences:\n" + b"    - 5\n" * 20_000
    start = time.perf_counter()
    contact, errors = desired.check_bytes(data, "many.yaml")
    assert time.perf_counter() - start < 2 * FAST
    assert contact is None and len(errors) == desired.MAX_ERRORS_PER_FILE + 1
    assert errors[-1].message.endswith("more errors not shown")


# --- fuzzing --------------------------------------------------------------------------------

def _schema_validator() -> jsonschema.Draft202012Validator:
    text = resources.files("planner").joinpath("schemas/desired.schema.json").read_text("utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


VALIDATOR = _schema_validator()
# Bounded for CI; PLANNER_FUZZ_EXAMPLES=5000 runs a longer search.
EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

TOKENS = ["contact", "id", "find", "name", "match", "absent", "contactIndividuals",
          "contactMethods", "address", "postal", "customFields", "isArchived", "email",
          ":", ": ", "- ", "\n", "\n  ", "\n    ", "  ", "\t", "[", "]", "{", "}", ",", "&a ",
          "*a", "!!python/object ", "!!str ", "!x ", "'", '"', "#", "|", ">", "?", "---",
          "...", "%YAML 1.1\n", "<<: ", "~", "null", "true", "no", "1042", "01234", "-3",
          "1.5", "2026-11-02", "2026-02-30", "\u00e9", "\x00", "\x07", "\ufeff", "\\", "@", "`"]


def _outcome(data: bytes) -> None:
    """Loading either succeeds or raises DesiredStateError: nothing else, and one clean line."""
    try:
        contact = desired.load_bytes(data, "fuzz.yaml")
    except DesiredStateError as err:
        assert_clean(err, "fuzz.yaml")
    else:
        assert isinstance(contact, desired.DesiredContact)
        hash(contact)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_fuzz_yamlish_text(text):
    _outcome(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    _outcome(data)


ALL_FIELDS = sorted({name for resource in model.RESOURCES for name in model.fields(resource)}
                    | set(desired.CONTACT_KEYS) | {"match", "absent", "source", "email",
                                                    "referenceSource", "referenceId"})
SCALARS = (st.none() | st.booleans() | st.integers(-10, 10 ** 12) | st.text(max_size=12)
           | st.floats(allow_nan=True) | st.dates()
           | st.datetimes(min_value=datetime.datetime(1900, 1, 1)))
TREES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=4)
                     | st.dictionaries(st.sampled_from(ALL_FIELDS) | st.text(max_size=8), kids,
                                       max_size=6), max_leaves=30)


@FUZZ
@given(TREES, st.booleans())
def test_fuzz_random_structures(tree, wrap):
    doc = {"contact": tree} if wrap else tree
    _outcome(yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass"))


# Generated contacts: `contacts(odds)` draws mostly the right keys and types and, about once in
# `odds` draws, a wrong key or value (odds 0: never). The loader and the schema must agree.

def _as_json(value):
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _frozen(value) -> str:
    return json.dumps(_as_json(value), sort_keys=True)


WRONG = (st.integers(-3, 99_999) | st.floats(allow_nan=False).filter(lambda f: not f.is_integer())
         | st.booleans() | st.none() | st.text(max_size=6) | st.builds(list) | st.builds(dict))
NAME = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)
# PyYAML's emitter folds U+0085 (NEL) in quoted scalars, so it does not survive safe_dump ->
# safe_load (planner reads such a file exactly as PyYAML does); keep it out of round-trip checks.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x85"), max_size=10)


def contacts(odds: int):
    def mostly(right, wrong=WRONG, rarer: int = 1):
        if not odds:
            return right
        return st.integers(0, odds * rarer).flatmap(lambda n: wrong if n == 0 else right)

    def value(field: model.Field):
        right = {
            "string": TEXT,
            "integer": st.integers(-5, 3000),
            "boolean": st.booleans(),
            "date": st.dates() | st.dates().map(datetime.date.isoformat),
        }[field.kind]
        return mostly(right | st.none() if field.nullable else right)

    def fields(resource: str, extra: list[str], max_size: int = 4, min_size: int = 0):
        scalars = {n: f for n, f in desired.scalar_fields(resource).items()
                   if n not in FIXED.get(resource, ())}
        names = mostly(st.sampled_from(sorted(scalars)), st.sampled_from(extra), rarer=2)
        return st.lists(names, min_size=min_size, max_size=max_size, unique=True).flatmap(
            lambda chosen: st.fixed_dictionaries(
                {n: value(scalars[n]) if n in scalars else WRONG for n in chosen}))

    def with_selector(choices: list[str], wrong_choices: list[str], parts: dict, rest):
        """Selector keys of one choice ("id", "type+value", ...) merged with `rest`."""
        choice = st.sampled_from(choices * 3 + (wrong_choices if odds else []))
        picked = choice.flatmap(lambda c: st.fixed_dictionaries(
            {k: v for k, v in parts.items() if k in c.split("+")}))
        return st.tuples(picked, rest).map(lambda pair: {**pair[1], **pair[0]})

    method = with_selector(
        ["match", "type+value", "match+absent", "type+value+absent"], ["value", "", "absent"],
        {"match": fields("ContactMethod", ["id"], 2, min_size=1),
         "type": mostly(NAME), "value": mostly(NAME), "absent": mostly(st.booleans())},
        fields("ContactMethod", ["id", "nope"], 2).map(
            lambda d: {k: v for k, v in d.items() if odds or k not in ("type", "value")}))
    if not odds:  # an absent method takes nothing besides its selector
        method = method.map(lambda m: {k: v for k, v in m.items()
                                       if not m.get("absent") or k in ("match", "absent")
                                       or ("match" not in m and k in ("type", "value"))})

    def method_key(m):
        return _frozen(m["match"]) if "match" in m else _frozen([m.get("type"), m.get("value")])

    individual = with_selector(
        ["id", "match", "id+contactMethods", "match+contactMethods"], ["id+match", ""],
        {"id": mostly(st.integers(1, 50)),
         "match": fields("ContactIndividual", ["id", "canBePrimary"], 2, min_size=1),
         "contactMethods": mostly(st.lists(method, max_size=3, unique_by=method_key))},
        fields("ContactIndividual", ["contactId", "absent", "customFields"]))
    reference = with_selector(
        ["source+id", "source+id+absent"], ["source", ""],
        {"source": mostly(NAME), "id": mostly(NAME), "absent": mostly(st.booleans())},
        mostly(st.builds(dict), st.fixed_dictionaries({"sorce": NAME})))
    find = st.sampled_from([{"email": "a@example.org"}, {"referenceSource": "S",
                                                          "referenceId": "1"}])
    if odds:
        find = find | st.sampled_from([{"email": ""}, {"email": 5}, {"referenceSource": "S"},
                                       {"email": "a@b", "referenceId": "1"}, {}])
    return with_selector(
        ["id", "find"], ["id+find", ""],
        {"id": mostly(st.integers(1, 10 ** 6), st.integers(-1, 0) | WRONG), "find": find},
        st.fixed_dictionaries({}, optional={
            "isArchived": mostly(st.booleans()),
            "customFields": mostly(st.dictionaries(NAME, mostly(st.none() | TEXT),
                                                   max_size=3)),
            "contactReferences": mostly(st.lists(reference, max_size=3, unique_by=lambda r: (
                _frozen(r.get("source")), _frozen(r.get("id")))) if not odds
                else st.lists(reference, max_size=3)),
            "address": mostly(fields("ContactAddress", ["id", "zip"])),
            "contactIndividuals": mostly(st.lists(individual, max_size=3, unique_by=lambda i: (
                _frozen(i.get("id")), _frozen(i.get("match")))) if not odds
                else st.lists(individual, max_size=3)),
        }).flatmap(lambda d: fields("Contact", ["tags", "modifiedDateTimeUtc", "nmae"]).map(
            lambda f: {**f, **d})))


# Checks the schema cannot express; a file failing only these may pass the schema.
SEMANTIC_ONLY = ("the same item as",)
AGREE = FUZZ


@AGREE
@given(contacts(odds=12))
def test_loader_and_schema_agree_on_near_valid_contacts(contact):
    doc = {"contact": contact}
    data = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")
    loaded, errors = desired.check_bytes(data, "near.yaml")
    schema_errors = list(VALIDATOR.iter_errors(_as_json(doc)))
    for err in errors:
        assert_clean(err, "near.yaml")
    if loaded is not None:
        assert errors == [] and schema_errors == [], schema_errors[:1]
    elif not all(any(s in e.message for s in SEMANTIC_ONLY) for e in errors):
        assert schema_errors, [str(e) for e in errors]


@AGREE
@given(contacts(odds=0))
def test_valid_contacts_load_to_what_they_say(contact):
    data = yaml.safe_dump({"contact": contact}, allow_unicode=True).encode("utf-8")
    loaded, errors = desired.check_bytes(data, "valid.yaml")
    assert errors == []
    assert not list(VALIDATOR.iter_errors(_as_json({"contact": contact})))
    want = _as_json(contact)
    assert loaded.id == want.get("id") and loaded.find == want.get("find")
    assert loaded.is_archived == want.get("isArchived")
    assert dict(loaded.fields) == {k: v for k, v in want.items()
                                   if k in desired.scalar_fields("Contact")}
    assert dict(loaded.custom_fields) == want.get("customFields", {})
    assert loaded.address == want.get("address")
    assert [(r.source, r.id, r.absent) for r in loaded.references] == [
        (r["source"], r["id"], r.get("absent", False)) for r in want.get("contactReferences", [])]
    assert len(loaded.individuals) == len(want.get("contactIndividuals", []))
    for got, item in zip(loaded.individuals, want.get("contactIndividuals", [])):
        assert (got.id, got.match) == (item.get("id"), item.get("match"))
        assert dict(got.fields) == {k: v for k, v in item.items()
                                    if k in desired.scalar_fields("ContactIndividual")}
        for method, raw in zip(got.methods, item.get("contactMethods", []), strict=True):
            assert method.match == raw.get("match") and method.absent == raw.get("absent", False)
            assert dict(method.fields) == {k: v for k, v in raw.items()
                                           if k not in ("match", "absent")}
    hash(loaded)


KEY_POOL = st.sampled_from(ALL_FIELDS + ["nmae", "zip", "sorce"])


def _places(value, path=()):
    """Every place in a document: (path, value) for each dict, list and leaf below the root."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, path + (index,))


def _at(doc, path):
    for part in path:
        doc = doc[part]
    return doc


@AGREE
@given(contacts(odds=0), st.data())
def test_loader_and_schema_agree_after_one_change(contact, data):
    """A valid contact with one value replaced, one key removed or one key added: the loader
    rejects it exactly when the schema does (bar the checks the schema cannot express)."""
    doc = copy.deepcopy({"contact": contact})
    places = list(_places(doc))
    op = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if op == "add":
        path, target = data.draw(st.sampled_from(
            [(p, v) for p, v in places if isinstance(v, dict)]))
        target[data.draw(KEY_POOL)] = data.draw(WRONG | st.booleans() | NAME)
    else:
        inside = [(p, v) for p, v in places if p]
        if op == "delete":
            inside = [(p, v) for p, v in inside if isinstance(_at(doc, p[:-1]), dict)]
        path, _ = data.draw(st.sampled_from(inside))
        parent = _at(doc, path[:-1])
        if op == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(WRONG)
    raw = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")
    loaded, errors = desired.check_bytes(raw, "changed.yaml")
    schema_errors = list(VALIDATOR.iter_errors(_as_json(doc)))
    if loaded is not None:
        assert schema_errors == [], (op, path, schema_errors[0].message)
    elif not all(any(s in e.message for s in SEMANTIC_ONLY) for e in errors):
        assert schema_errors, (op, path, [str(e) for e in errors])
