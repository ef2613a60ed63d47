"""The canonical form and the patch property, tested directly."""
from __future__ import annotations

import datetime as dt

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.differ import diff
from planner.normalize import natural, normalize_date, normalize_timestamp, normalize_value

SAME = [  # (kind, live spelling, other spelling): must normalise to one value
    ("boolean", "true", True), ("boolean", "False", False), ("boolean", 1, True),
    ("integer", "7", 7), ("integer", 7.0, 7), ("integer", " -3 ", -3),
    ("string", "", None), ("boolean", "", None), ("date", "", None),
    ("date", "2026-11-02T00:00:00", "2026-11-02"), ("date", "11/2/2026", "2026-11-02"),
    ("date", dt.date(2026, 11, 2), "2026-11-02"), ("date", "2026-11-02T00:00:00.0000000", "2026-11-02"),
    ("datetime", "2023-11-30T14:20:56.34", "2023-11-30T14:20:56.3400000"),
    ("datetime", "2023-11-30T14:20:56.3533333", "2023-11-30T14:20:56.353333300"),
    ("datetime", "2023-11-30T14:20:56", "2023-11-30T14:20:56.0000000Z"),
]
DIFFERENT = [
    ("boolean", "true", False), ("integer", "7", 8), ("date", "2026-11-02T13:00:00", "2026-11-02"),
    ("string", "Smith", "smith"), ("string", " x", "x"),
]


@pytest.mark.parametrize("kind,a,b", SAME)
def test_spellings_of_one_value_normalise_alike(kind, a, b):
    assert normalize_value(kind, a) == normalize_value(kind, b)


@pytest.mark.parametrize("kind,a,b", DIFFERENT)
def test_different_values_stay_different(kind, a, b):
    assert normalize_value(kind, a) != normalize_value(kind, b)


def test_unparseable_values_pass_through_so_they_still_show():
    assert normalize_value("boolean", "maybe") == "maybe"
    assert normalize_value("integer", "7a") == "7a"
    assert normalize_date("sometime") == "sometime"
    assert normalize_timestamp("yesterday") == "yesterday"


def test_a_record_goes_back_in_natural_types_with_text_kept_as_it_came():
    raw = {"id": "1042", "isPrivate": "true", "anniversaryMonth": "6", "website": "",
           "anniversaryDay": "", "lifeToDateGiving": "$1.00", "brandNew": {"x": 1},
           "contactIndividuals": [{"id": "7", "isPrimary": "false", "birthDate": "9/4/1998",
                                   "contactMethods": [{"id": "8", "isOptedIn": "true"}]}]}
    body = natural("Contact", raw)
    assert body["isPrivate"] is True and body["anniversaryMonth"] == 6
    assert body["website"] == "" and body["anniversaryDay"] is None
    assert "lifeToDateGiving" not in body and "id" not in body  # read-only: the API ignores them
    assert body["brandNew"] == {"x": 1}  # unknown: carried through, never dropped
    individual = body["contactIndividuals"][0]
    assert individual["id"] == 7 and individual["isPrimary"] is False
    assert individual["birthDate"] == "1998-09-04"
    assert individual["contactMethods"] == [{"id": 8, "isOptedIn": True}]


documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=15)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(st.text(max_size=4), documents, max_size=5),
       st.dictionaries(st.text(max_size=4), documents, max_size=5))
def test_the_patch_of_a_diff_turns_before_into_after(before, after):
    """The python-json-patch property, for planner's differ and its guarded patches: the
    patch (with its `test` operations) applies to `before` and yields `after` exactly."""
    patch = [op for change in diff(before, after) for op in change.patch()]
    assert jsonpatch.apply_patch(before, patch) == after
