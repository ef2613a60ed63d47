"""Hypothesis strategies for the no-loss proof: live contacts and valid desired files over them.

`live_contacts()` draws a contact in the sandbox's seed format (the GET shape with every
address under `addresses`), mixing natural and string-typed values, "" and null, and
timestamps with 0-7 fraction digits. `desired_cases(live)` draws a valid desired-state file
over it and says what the file names: where the record may change and what it must become.

Only inputs that are valid are drawn: matches select exactly one item when they are read,
emails are valid and unused, names are not blank, one method per category is made primary.
Some files do not converge (a match that selects another item, or none, once the file is
applied); `DesiredCase.stable` says so, and planner must refuse those before writing.
The drawing mirrors the documented selection rules (strings compare case-insensitively; a
method made primary demotes the others of its category: every email type, every phone type,
else the type itself), so it is an independent statement of what the planner must do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import strategies as st

from planner.desired_model import scalar_fields
from planner.normalize import normalize_value
from tests.live_strategies import (
    CUSTOM_NAMES, Counter, EMPTY, ISO_DATES,
    METHOD_TYPES, NON_BLANK, REFERENCE_SOURCES, SAME_CATEGORY, TEXT,
    category, live_contacts, method_value, same, typed)


@dataclass
class DesiredCase:
    """A desired file over a live contact and what it names, in tests.golden.flatten paths:
    where the record may change and what the named places must hold afterwards."""

    text: str
    contact_id: int
    via_find: bool = False
    # False: a match selects another item (or none) once the file is applied, so the file
    # cannot converge; planner must refuse it before writing, or converge all the same.
    stable: bool = True
    named: list[tuple] = field(default_factory=list)  # prefixes that may change
    leaves: list[tuple] = field(default_factory=list)  # list leaves that may change ([] <-> items)
    expect: list[tuple[tuple, str, Any]] = field(default_factory=list)  # (path, kind, value)
    gone: list[tuple] = field(default_factory=list)  # prefixes that must be absent after
    added: list[tuple[str, dict]] = field(default_factory=list)  # (individual id, method fields)
    # (individual, category, method made primary; None for an added one)
    primaries: list[tuple[str, str, str | None]] = field(default_factory=list)

    def name(self, path: tuple, kind: str | None = None, value: Any = None) -> None:
        """`path` is named; with a kind, it must hold `value` (normalised) afterwards."""
        self.named.append(path)
        if kind is not None:
            self.expect.append((path, kind, normalize_value(kind, value)))


def desired_value(resource: str, name: str) -> st.SearchStrategy:
    """A value a desired file may give a field (null clears it; "" too for text)."""
    kind = scalar_fields(resource)[name].kind
    if name == "name" and resource == "Contact":
        return NON_BLANK
    if kind == "boolean":
        return st.one_of(st.booleans(), st.none())
    if kind == "integer":
        return st.one_of(st.integers(-1, 3000), st.none())
    if kind == "date":
        return st.one_of(ISO_DATES.map(lambda d: d.isoformat()), st.none())
    return st.one_of(TEXT, EMPTY)


def kind_of(resource: str, name: str) -> str:
    return scalar_fields(resource)[name].kind


def some_fields(draw, resource: str, live: dict, exclude: tuple[str, ...] = (),
                most: int = 4) -> dict:
    """New values for some fields; now and then the live value again, in the file's spelling
    (which must plan no change however the live record spells it)."""
    names = [n for n in scalar_fields(resource) if n not in exclude]
    if not names:
        return {}
    current = typed(resource, live)
    chosen = draw(st.lists(st.sampled_from(names), max_size=most, unique=True))
    return {n: current[n] if writable_in_match(current[n]) and draw(st.integers(0, 3)) == 0
            and not (n == "name" and resource == "Contact") else draw(desired_value(resource, n))
            for n in chosen}


def writable_in_match(value: Any) -> bool:
    """Whether a canonical value can be written in a match (a date field only as a date)."""
    return not (isinstance(value, str) and len(value) > 10 and value[:4].isdigit())


def draw_match(draw, items: dict[str, dict], ident: str, used: set) -> dict | None:
    """A match selecting exactly `ident` among `items` now, unlike any match used before."""
    usable = [f for f, v in items[ident].items() if writable_in_match(v)]
    if not usable:
        return None
    order = draw(st.permutations(usable))
    match: dict = {}
    for name in order:
        match[name] = items[ident][name]
        found = [i for i, item in items.items()
                 if all(same(item.get(k), v) for k, v in match.items())]
        key = frozenset(match.items())
        if found == [ident] and key not in used and (draw(st.booleans()) or name == order[-1]):
            used.add(key)
            return match
    return None


class MethodSpecs:
    """Draws the `contactMethods` list of one individual against a working copy of its methods,
    the way the planner reads the list: in order, each spec seeing what the earlier ones did."""

    FIELDS = ("type", "value", "isOptedIn", "isPrimary")

    def __init__(self, draw, case: DesiredCase, iid: str, methods: list[dict],
                 counter: Counter, keep: str | None) -> None:
        self.draw, self.case, self.iid, self.counter, self.keep = draw, case, iid, counter, keep
        self.base = ("contactIndividuals", iid, "contactMethods")
        self.work = {str(m["id"]): typed("ContactMethod", m) for m in methods}
        self.done: set[str] = set()  # one spec per method
        self.used: set = set()  # matches already written (the loader refuses a repeated one)
        self.promoted: dict[str, str] = {}  # category -> the method made primary
        self.specs: list[dict] = []
        self.matched: list[tuple[int, str | None, dict | None]] = []  # (spec, method, identity)
        self.resized = False

    def promote(self, key: str, method_type: Any, fields: dict) -> dict:
        if fields.get("isPrimary") is True:
            kind = category(method_type)
            if kind in self.promoted:
                del fields["isPrimary"]  # a valid file makes one method per category primary
            else:
                self.promoted[kind] = key
        return fields

    def new_fields(self, key: str, match: dict | None) -> dict:
        draw, old, out = self.draw, self.work[key], {}
        for name in draw(st.lists(st.sampled_from(self.FIELDS), max_size=3, unique=True)):
            if match is None and name in ("type", "value"):
                continue  # the identity is what the entry sets: it cannot change it
            if match and name in match and draw(st.integers(0, 3)):
                continue  # a match on a field its own entry changes selects nothing next time
            if name == "type":  # within its category: a phone never becomes an email
                out[name] = draw(st.sampled_from(SAME_CATEGORY.get(old["type"], (old["type"],))))
            elif name == "value" and key != self.keep:
                out[name] = method_value(draw, old["type"], self.counter, "upd")
            elif name in ("isOptedIn", "isPrimary"):
                out[name] = draw(st.one_of(st.booleans(), st.none()))
        return self.promote(key, out.get("type", old["type"]), out)

    def add(self) -> None:
        draw = self.draw
        kind = draw(st.sampled_from(METHOD_TYPES))
        value = method_value(draw, kind, self.counter, "new")
        fields = {"type": kind, "value": value}
        for name in ("isPrimary", "isOptedIn"):
            if draw(st.booleans()):
                fields[name] = draw(st.one_of(st.booleans(), st.none()))
        key = f"new:{kind}:{value}"
        fields = self.promote(key, kind, fields)
        self.work[key] = {"type": kind, "value": value, "isOptedIn": None, "isPrimary": False} \
            | fields
        self.specs.append(dict(fields))
        self.case.added.append((self.iid, fields))
        self.resized = True

    def identity(self, key: str) -> dict | None:
        """The (type, value) that selects `key` alone now, if there is one."""
        old = self.work[key]
        twins = [k for k, m in self.work.items()
                 if same(m["type"], old["type"]) and same(m["value"], old["value"])]
        if old["type"] is None or old["value"] is None or twins != [key]:
            return None
        return {"type": old["type"], "value": old["value"]}

    def step(self) -> None:
        draw = self.draw
        existing = [k for k in self.work if not k.startswith("new:") and k not in self.done]
        action = draw(st.sampled_from(["update", "remove", "restate", "add", "remove-missing"]
                                      if existing else ["add", "remove-missing"]))
        if action == "add":
            return self.add()
        if action == "remove-missing":  # absent and already gone: nothing to do
            gone = f"gone.{self.counter.next()}@example.org"
            self.specs.append({"type": "Home Email", "value": gone, "absent": True})
            return None
        key = draw(st.sampled_from(existing))
        self.done.add(key)
        if action == "remove" and key == self.keep:
            action = "update"  # the email that finds the contact stays
        identity = self.identity(key)
        match = None
        if action != "restate" and draw(st.booleans()):
            match = draw_match(draw, self.work, key, self.used)
        if match is None and identity is None:
            return None
        spec = {"match": match} if match is not None else dict(identity)
        if match is None and "@" in identity["value"] and draw(st.booleans()):
            spec["value"] = identity["value"].upper()  # identity ignores case; the file's is set
        path = self.base + (key,)
        if action == "remove":
            del self.work[key]
            self.case.named.append(path)
            self.case.gone.append(path)
            self.resized = True
            fields: dict = {"absent": True}
        else:
            fields = self.new_fields(key, match)
            changes = fields if match is not None else spec | fields
            for name, value in changes.items():
                kind = kind_of("ContactMethod", name)
                self.work[key][name] = normalize_value(kind, value)
                self.case.name(path + (name,), kind, value)
            if "type" in fields or "value" in fields:
                identity = None  # the identity seen now is not the one after
        if match is not None:
            self.matched.append((len(self.specs), None if action == "remove" else key, identity))
        self.specs.append(spec | fields)
        return None

    def finish(self) -> None:
        """Name what promotions demote; a match that selects another method (or none) once the
        file is applied is mostly rewritten as the identity it selects now, else kept (the
        file is then not stable)."""
        for kind, key in self.promoted.items():
            self.case.primaries.append((self.iid, kind, None if key.startswith("new:") else key))
            for other, method in self.work.items():
                if other != key and method["isPrimary"] is True \
                        and category(method["type"]) == kind:
                    method["isPrimary"] = False
                    self.case.name(self.base + (other, "isPrimary"), "boolean", False)
        for index, key, identity in self.matched:
            match = self.specs[index]["match"]
            found = [k for k, m in self.work.items()
                     if all(same(m.get(f), v) for f, v in match.items())]
            if found != ([key] if key else []):
                if identity is None or self.draw(st.booleans()):
                    self.case.stable = False
                    continue
                rest = {k: v for k, v in self.specs[index].items() if k != "match"}
                self.specs[index] = identity | rest
        if self.resized:
            self.case.leaves.append(self.base)
            if any(k.startswith("new:") for k in self.work):
                self.case.named.append(self.base + ("<new>",))


def identify(draw, live: dict, doc: dict) -> tuple[str | None, tuple | None]:
    """By id, or by a find the file's own changes leave working; returns what must stay."""
    emails = [(str(m["id"]), m["value"]) for ind in live["contactIndividuals"]
              for m in ind["contactMethods"] if category(m["type"]) == "email"]
    how = draw(st.sampled_from(["id", "id", "email", "reference"]))
    if how == "email" and emails:
        keep, address = draw(st.sampled_from(emails))
        doc["find"] = {"email": draw(st.sampled_from([address, address.upper()]))}
        return keep, None
    if how == "reference" and live["contactReferences"]:
        ref = draw(st.sampled_from(live["contactReferences"]))
        doc["find"] = {"referenceSource": ref["source"], "referenceId": ref["id"]}
        return None, (ref["source"], ref["id"])
    doc["id"] = live["id"]
    return None, None


def custom_fields(draw, case: DesiredCase, live: dict) -> dict:
    out = {}
    live_names = {c["name"] for c in live["customFields"]}
    for name in draw(st.lists(st.sampled_from(CUSTOM_NAMES + ("Added Field",)), max_size=3,
                              unique=True)):
        out[name] = draw(st.one_of(TEXT, EMPTY))
        if out[name] in (None, "") and name not in live_names:
            case.named.append(("customFields", name))
            case.gone.append(("customFields", name))
        else:
            case.name(("customFields", name))
            case.expect.append((("customFields", name, "value"), "string", out[name] or None))
    if out:
        case.leaves.append(("customFields",))
    return out


def references(draw, case: DesiredCase, live: dict, counter: Counter,
               keep: tuple | None) -> list[dict]:
    out = []
    present = [(r["source"], r["id"]) for r in live["contactReferences"]]
    candidates = present + [(s, f"n-{counter.next()}") for s in REFERENCE_SOURCES[:2]]
    for source, ref_id in draw(st.lists(st.sampled_from(candidates), max_size=3, unique=True)):
        absent = (source, ref_id) != keep and draw(st.booleans())
        out.append({"source": source, "id": ref_id} | ({"absent": True} if absent else {}))
        path = ("contactReferences", f"{source}:{ref_id}")
        case.named.append(path)
        if absent:
            case.gone.append(path)
        else:
            case.expect.append((path + ("id",), "string", ref_id))
    if out:
        case.leaves.append(("contactReferences",))
    return out


def individuals(draw, case: DesiredCase, live: dict, counter: Counter,
                keep: str | None) -> list[dict]:
    out, used = [], set()
    work = {str(i["id"]): typed("ContactIndividual", i) for i in live["contactIndividuals"]}
    raw = {str(i["id"]): i for i in live["contactIndividuals"]}
    for iid in draw(st.lists(st.sampled_from(sorted(work)), max_size=len(work), unique=True)):
        match = None if draw(st.booleans()) else draw_match(draw, work, iid, used)
        spec: dict[str, Any] = {"match": match} if match else {"id": int(iid)}
        own = () if draw(st.integers(0, 3)) == 0 else tuple(match or ())
        fields = some_fields(draw, "ContactIndividual", raw[iid], own, 3)
        for name, value in fields.items():
            spec[name] = value
            kind = kind_of("ContactIndividual", name)
            work[iid][name] = normalize_value(kind, value)
            case.name(("contactIndividuals", iid, name), kind, value)
        mine = keep if any(str(m["id"]) == keep for m in raw[iid]["contactMethods"]) else None
        methods = MethodSpecs(draw, case, iid, raw[iid]["contactMethods"], counter, mine)
        for _ in range(draw(st.integers(0, 4))):
            methods.step()
        methods.finish()
        if methods.specs:
            spec["contactMethods"] = methods.specs
        out.append((iid, spec))
    # The next plan reads the matches against the converged record: one that selects another
    # individual there is mostly written as the id it selects now (same meaning), else kept.
    for iid, spec in out:
        match = spec.get("match")
        if match and [i for i, d in work.items()
                      if all(same(d.get(k), v) for k, v in match.items())] != [iid]:
            if draw(st.booleans()):
                spec.pop("match")
                spec["id"] = int(iid)
            else:
                case.stable = False
    return [spec for _, spec in out]


@st.composite
def desired_cases(draw, live: dict) -> DesiredCase:
    """A valid desired file over `live` (seed format) and what it names."""
    counter = Counter(10_000)  # above every live email and phone number
    case = DesiredCase("", live["id"])
    doc: dict[str, Any] = {}
    keep_method, keep_ref = identify(draw, live, doc)
    case.via_find = "find" in doc
    for name, value in some_fields(draw, "Contact", live, most=5).items():
        doc[name] = value
        case.name((name,), kind_of("Contact", name), value)
    for key, value in (("customFields", custom_fields(draw, case, live)),
                       ("contactReferences", references(draw, case, live, counter, keep_ref))):
        if value:
            doc[key] = value
    primary = next((a for a in live["addresses"] if a["isPrimary"] is True), None)
    if primary is not None and draw(st.booleans()):
        fields = some_fields(draw, "ContactAddress", primary, ("isPrimary",))  # refused there
        for name, value in fields.items():
            case.name(("address", name), kind_of("ContactAddress", name), value)
            case.named.append(("addresses", str(primary["id"]), name))
        if fields:
            doc["address"] = fields
    specs = individuals(draw, case, live, counter, keep_method)
    if specs:
        doc["contactIndividuals"] = specs
    archived = draw(st.sampled_from([None, None, True, False]))
    if archived is not None:
        doc["isArchived"] = archived
        case.name(("isArchived",), "boolean", archived)
    case.text = yaml.safe_dump({"contact": doc}, sort_keys=False, allow_unicode=True)
    return case


@st.composite
def no_loss_cases(draw) -> tuple[dict, DesiredCase]:
    live = draw(live_contacts())
    return live, draw(desired_cases(live))
