"""Hypothesis strategies for live contacts, in the sandbox's seed format.

`live_contacts()` draws a contact (the GET shape with every address under `addresses`),
mixing natural and string-typed values, "" and null, and timestamps with 0-7 fraction digits.
Only valid records are drawn: emails are valid and unique, names are not blank, at most one
method per category is primary. Desired files over them are drawn in tests/strategies.py.
"""
from __future__ import annotations

import datetime
import re
from typing import Any

from hypothesis import strategies as st

from planner import model
from planner.desired_model import scalar_fields
from planner.normalize import normalize_value


EMAIL_TYPES = ("Home Email", "Work Email")
PHONE_TYPES = ("Mobile Phone", "Home Phone")
METHOD_TYPES = EMAIL_TYPES + PHONE_TYPES + ("Fax",)
SAME_CATEGORY = {"Home Email": EMAIL_TYPES, "Work Email": EMAIL_TYPES,
                 "Mobile Phone": PHONE_TYPES, "Home Phone": PHONE_TYPES, "Fax": ("Fax",)}
FIRST_NAMES = ("Jane", "John", "Pat", "Sam", "Ana", "José", "Zoë")
CUSTOM_NAMES = ("Giving Tier", "Newsletter", "Region", "Board/Committee", "Score ~1", "Source")
REFERENCE_SOURCES = ("Portal", "Shop", "Legacy")
DOMAINS = ("example.org", "Example.COM", "mail.example.net")
BYSTANDER_ID = 1  # generated ids start at 10: the bystander's never collide

# A second contact that no desired file names: it must come through every apply untouched,
# and its email makes the sandbox's cross-contact 409 rule part of what generated emails avoid.
BYSTANDER = {
    "id": BYSTANDER_ID, "contactType": "Household", "name": "Bystander Household",
    "isArchived": False,
    "addresses": [{"id": 1, "label": "Home", "address1": "1 Side St", "city": "Boston",
                   "isPrimary": True}],
    "contactIndividuals": [{"id": 1, "firstName": "Jane", "lastName": "Bystander",
                            "isPrimary": True, "contactMethods": [
                                {"id": 1, "type": "Home Email", "value": "bystander@example.org",
                                 "isOptedIn": True, "isPrimary": True}]}],
    "customFields": [{"name": "Giving Tier", "value": "Gold"}],
    "contactReferences": [{"source": "Portal", "id": "p-1"}],
}


def category(method_type: Any) -> str:
    text = str(method_type or "").lower()
    return next((word for word in ("email", "phone") if word in text), text)


def same(a: Any, b: Any) -> bool:
    """How a match compares one field: strings ignore case, other values are equal."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return type(a) is type(b) and a == b


def typed(resource: str, raw: dict) -> dict[str, Any]:
    """The settable scalar fields of a raw item in their natural types ("" and null: None)."""
    return {n: normalize_value(f.kind, raw.get(n)) for n, f in scalar_fields(resource).items()}


# -- values ---------------------------------------------------------------------------------
_CHARS = st.one_of(st.sampled_from("abcdeXYZ -'.&,0123456789"),
                   st.characters(categories=("L", "N"), max_codepoint=0x2FFF))
TEXT = st.text(_CHARS, min_size=1, max_size=12)
NON_BLANK = TEXT.filter(lambda s: s.strip() != "")
EMPTY = st.sampled_from([None, ""])


def live_text() -> st.SearchStrategy:
    return st.one_of(TEXT, EMPTY)


def live_boolean() -> st.SearchStrategy:
    """A boolean as the API may send it: natural, string-typed, or empty."""
    flags = st.booleans()
    return st.one_of(flags, flags.map(lambda b: "true" if b else "false"), EMPTY)


def live_integer(lo: int, hi: int) -> st.SearchStrategy:
    numbers = st.integers(lo, hi)
    return st.one_of(numbers, numbers.map(str), EMPTY)


ISO_DATES = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31))


@st.composite
def timestamp(draw, midnight: bool = False) -> str:
    """An ISO timestamp without zone and with 0 to 7 fraction digits."""
    day = draw(ISO_DATES)
    clock = "00:00:00" if midnight else "%02d:%02d:%02d" % (
        draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59)))
    digits = draw(st.integers(0, 7))
    fraction = "0" * digits if midnight else "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=digits, max_size=digits)))
    return f"{day.isoformat()}T{clock}" + (f".{fraction}" if digits else "")


def live_date() -> st.SearchStrategy:
    """A date in any form the API uses: ISO, US "9/4/1998", or midnight with fractions."""
    return st.one_of(ISO_DATES.map(lambda d: d.isoformat()),
                     ISO_DATES.map(lambda d: f"{d.month}/{d.day}/{d.year}"),
                     timestamp(midnight=True), EMPTY)


def live_value(resource: str, name: str) -> st.SearchStrategy:
    """A generic live value of one scalar field (fields with rules are drawn by their owner)."""
    kind = model.fields(resource)[name].kind
    if kind == "boolean":
        return live_boolean()
    if kind == "integer":
        if name.endswith("Year"):
            return live_integer(1900, 2030)
        return live_integer(1, 12) if name.endswith("Month") else live_integer(1, 31)
    if kind == "date":
        return live_date()
    if kind == "datetime":
        return timestamp()
    if kind == "money":
        return st.one_of(st.integers(0, 10 ** 7).map(lambda c: f"${c / 100:,.2f}"), st.none())
    return live_text()


class Counter:
    """Fresh, never-repeating numbers inside one drawing (unique emails and phones)."""

    def __init__(self, start: int = 0) -> None:
        self.n = start

    def next(self) -> int:
        self.n += 1
        return self.n


def email(draw, counter: Counter, local: str | None = None) -> str:
    local = re.sub(r"[^a-z0-9]", "", (local or draw(st.sampled_from(FIRST_NAMES))).lower())
    return f"{local or 'x'}.{counter.next()}@{draw(st.sampled_from(DOMAINS))}"


def phone(counter: Counter) -> str:
    return f"555-{counter.next():04d}"


def method_value(draw, method_type: str, counter: Counter, local: str | None = None) -> str:
    if category(method_type) == "email":
        return email(draw, counter, local)
    return phone(counter)


# -- live contacts --------------------------------------------------------------------------
def unique_ids(draw, count: int) -> list[int]:
    # A small range: ids of different kinds often coincide, as they may in the live API.
    return draw(st.lists(st.integers(10, 10 + 4 * count + 20), min_size=count, max_size=count,
                         unique=True))


def fill(draw, resource: str, out: dict, skip: tuple[str, ...] = ()) -> dict:
    for name, f in model.fields(resource).items():
        if name not in out and name not in skip and f.kind not in ("array", "object"):
            out[name] = draw(live_value(resource, name))
    return out


def primary_flags(draw, types: list[Any]) -> list[Any]:
    """isPrimary values with at most one primary per category (natural or string-typed)."""
    flags: list[Any] = [None] * len(types)
    for kind in {category(t) for t in types}:
        members = [i for i, t in enumerate(types) if category(t) == kind]
        chosen = draw(st.sampled_from([None, *members]))
        for i in members:
            if i == chosen:
                flags[i] = draw(st.sampled_from([True, "true"]))
            else:
                flags[i] = draw(st.sampled_from([False, "false", None, ""]))
    return flags


def live_method_value(draw, method_type: Any, counter: Counter, first: str) -> Any:
    if category(method_type) != "email" and draw(st.integers(0, 5)) == 0:
        return draw(EMPTY)  # an email must be valid; anything else may be empty
    return method_value(draw, method_type, counter, first)


def live_methods(draw, ids: list[int], counter: Counter, first: str) -> list[dict]:
    types = [draw(st.sampled_from(METHOD_TYPES * 3 + (None, ""))) for _ in ids]
    flags = primary_flags(draw, types)
    return [{"id": mid, "type": t, "value": live_method_value(draw, t, counter, first),
             "isOptedIn": draw(live_boolean()), "isPrimary": flag,
             "canBePrimary": draw(st.sampled_from([True, False, "true"]))}
            for mid, t, flag in zip(ids, types, flags)]


def live_custom_fields(draw, names: tuple[str, ...] = CUSTOM_NAMES, most: int = 4) -> list[dict]:
    chosen = draw(st.lists(st.sampled_from(names), max_size=most, unique=True))
    values = st.one_of(TEXT, EMPTY, st.sampled_from(["true", "42", "2024-01-05"]))
    return [{"name": n, "value": draw(values),
             "displayName": draw(st.sampled_from([n, n.upper(), None]))} for n in chosen]


@st.composite
def live_contacts(draw) -> dict:
    """One contact in the sandbox's seed format (see tests/cases/*/live.json)."""
    counter = Counter()
    n_individuals = draw(st.integers(1, 4))
    n_methods = [draw(st.integers(0, 5)) for _ in range(n_individuals)]
    method_ids = iter(unique_ids(draw, sum(n_methods)))
    individuals = []
    for iid, count in zip(unique_ids(draw, n_individuals), n_methods):
        first = draw(st.one_of(st.sampled_from(FIRST_NAMES), live_text()))
        ind = {"id": iid, "firstName": first,
               "contactMethods": live_methods(draw, [next(method_ids) for _ in range(count)],
                                             counter, first or ""),
               "customFields": live_custom_fields(draw, ("Allergy", "Shirt Size"), 2)}
        ind["lastName"] = draw(st.one_of(st.sampled_from(["Smith", "Núñez", "O'Brien"]),
                                         live_text()))
        individuals.append(fill(draw, "ContactIndividual", ind, ("contactId",)))
    n_addresses = draw(st.integers(0, 3))
    primary = draw(st.sampled_from([None, *range(n_addresses)]))
    addresses = []
    for i, aid in enumerate(unique_ids(draw, n_addresses)):
        # The sandbox knows its primary address by `isPrimary is True` and sets the others to
        # false when the primary one is written: neither may be empty or string-typed "true"
        # (docs/reliability.md, "What is not generated").
        flag = True if i == primary else draw(st.sampled_from([False, "false"]))
        addresses.append(fill(draw, "ContactAddress", {"id": aid, "isPrimary": flag}))
    references = draw(st.lists(st.tuples(st.sampled_from(REFERENCE_SOURCES),
                                         st.from_regex(r"[a-z]{1,2}-[0-9]{1,3}", fullmatch=True)),
                               max_size=3, unique=True))
    contact = {
        "id": draw(st.integers(10, 10 ** 6)),
        "name": draw(NON_BLANK),  # every contact PUT is refused (422) when the name is blank
        "isArchived": draw(st.booleans()),  # the seed loader reads it with bool(): natural only
        "addresses": addresses,
        "contactIndividuals": individuals,
        "customFields": live_custom_fields(draw),
        "customCollections": draw(st.sampled_from([[], [{"id": 5, "name": "Volunteering"}]])),
        "contactReferences": [{"source": s, "id": i} for s, i in references],
        "tags": draw(st.lists(st.sampled_from(["Major Donor", "Volunteer", "Board"]),
                              max_size=3, unique=True)),
        "organizationGroups": draw(st.sampled_from([[], [{"id": 3, "isActive": True}]])),
        "mergedIntoContactId": None,
        "createdByUser": draw(st.sampled_from(["Import", "Office", None])),
        "contactViewUrl": None, "contactEditUrl": None,
    }
    return fill(draw, "Contact", contact)


# -- desired files --------------------------------------------------------------------------
