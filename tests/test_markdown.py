"""The pull-request (markdown) rendering of plans: golden documents, masking, escaping of user
data, and the size limit of a pull-request comment (`render` collapses, `split` spreads).

Golden folders under tests/markdown_cases/<name>/ hold expected.md (one document) or
part-001.md, part-002.md, ... (the parts of `split`). Set PLANNER_UPDATE_GOLDEN=1 to rewrite
them (then review the diff by eye).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from planner.ops import (ADD, REMOVE, UPDATE, Archive, ContactPlan, FieldChange, Plan,
                         PutAddress, PutContact, PutIndividual, Unarchive)
from planner.render.markdown import LIMIT, render, split

CASES = Path(__file__).parent / "markdown_cases"
UPDATE_GOLDEN = bool(os.environ.get("PLANNER_UPDATE_GOLDEN"))
SENSITIVE = ("birthDate", "deceasedDate")

SUMMARY_ID = re.compile(r"^<summary><code>contact (\d+)\b", re.M)
LISTED_ID = re.compile(r"^contact (\d+)\b", re.M)
FENCE = re.compile(r"^(`{3,})(\w*)$")
NOTE = re.compile(r"\*\*Detail left out to fit one comment:\*\* (\d+) of (\d+) contacts are "
                  r"shown in detail; the other (\d+) are (listed below without detail|left out)")
PART = re.compile(r"^### planner plan \(part (\d+) of (\d+)\)$", re.M)


def change(label: str, action: str, before=None, after=None, path=None) -> FieldChange:
    return FieldChange(tuple(path or label.split(".")), label, action, before, after)


def small_plan() -> Plan:
    """Every operation kind, values of every shape, and user data that tries to break out."""
    evil = ContactPlan(77, "Evil </details><script>x</script> `Co` @someone", "plans/evil `x`.yaml",
                       {}, (
        Unarchive(77, (change("isArchived", UPDATE, True, False),), "plans/evil `x`.yaml"),
        PutContact(77, (
            change('customFields["Line\nBreak"]', ADD, None, "```\n</details>",
                   path=("customFields", "Line\nBreak")),
            change("deceasedDate", UPDATE, "2020-01-01", None),
        ), "plans/evil `x`.yaml"),
    ))
    jones = ContactPlan(900, "Jones", "plans/jones.yaml", {}, (
        Archive(900, (change("isArchived", UPDATE, False, True),), "plans/jones.yaml"),
    ))
    smith = ContactPlan(1042, "Smith Household", "plans/smith-household.yaml", {}, (
        PutContact(1042, (
            change("contactReferences[Legacy:L-1]", REMOVE, {"source": "Legacy", "id": "L-1"},
                   path=("contactReferences", "Legacy:L-1")),
            change('customFields["Giving Tier"]', ADD, None, "Gold",
                   path=("customFields", "Giving Tier")),
            change('customFields["Notes"]', UPDATE, "uses ``` fences", None,
                   path=("customFields", "Notes")),
            change("description", UPDATE, "line one\nline two",
                   "`code` and </details> <b>bold</b>"),
            change("name", UPDATE, "Smith Household", "The Smith Household"),
        ), "plans/smith-household.yaml"),
        PutIndividual(1042, (
            change("birthDate", UPDATE, "1980-04-02", "1980-04-20"),
            change("contactMethods[#3001 Home Email].value", UPDATE, "jane@example.org",
                   "jane.new@example.org", path=("contactMethods", "3001", "value")),
            change("contactMethods[new Mobile Phone 555-0100]", ADD, None,
                   {"type": "Mobile Phone", "value": "555-0100", "isOptedIn": False,
                    "isPrimary": False, "id": None},
                   path=("contactMethods", "new:1")),
        ), "plans/smith-household.yaml", individual_id=2001),
        PutAddress(1042, (
            change("address1", UPDATE, "12 Oak St", "14 Oak St"),
            change("address2", UPDATE, "Apt 3", None),
            change("postal", ADD, None, "62701"),
        ), "plans/smith-household.yaml", address_id=501),
    ))
    unchanged = ContactPlan(5, "Unchanged", "plans/unchanged.yaml", {})
    return Plan((evil, jones, smith, unchanged))


def many_contacts(n: int, start: int = 10_000) -> Plan:
    """n changed contacts, each with a couple of operations and several changes."""
    contacts = []
    for i in range(n):
        cid, file = start + i, f"plans/contact-{start + i:05d}.yaml"
        contacts.append(ContactPlan(cid, f"Donor {cid}", file, {}, (
            PutContact(cid, (
                change('customFields["Giving Tier"]', UPDATE, "Silver", "Gold",
                       path=("customFields", "Giving Tier")),
                change("informalName", ADD, None, f"The {cid}s"),
                change("name", UPDATE, f"Donor {cid}", f"Donor {cid} Household"),
            ), file),
            PutIndividual(cid, (
                change("birthDate", UPDATE, "1970-01-01", "1971-02-02"),
                change("contactMethods[#1 Home Email].value", UPDATE, f"d{cid}@example.org",
                       f"donor{cid}@example.org", path=("contactMethods", "1", "value")),
            ), file, individual_id=cid * 10),
        )))
    return Plan(tuple(contacts))


def huge_contact(cid: int = 1, changes: int = 3000) -> ContactPlan:
    adds = tuple(change(f'customFields["Field {i:04d}"]', ADD, None, f"value number {i}",
                        path=("customFields", f"Field {i:04d}")) for i in range(changes))
    return ContactPlan(cid, "Huge Record", "plans/huge.yaml", {},
                       (PutContact(cid, adds, "plans/huge.yaml"),))


def detailed_ids(doc: str) -> list[int]:
    return [int(i) for i in SUMMARY_ID.findall(doc)]


def listed_ids(doc: str) -> list[int]:
    return [int(i) for i in LISTED_ID.findall(doc)]


def assert_well_formed(doc: str) -> None:
    """Fences close, <details> balance, and no user data escapes its code block or summary."""
    fence, kind, depth = None, "", 0
    for line in doc.splitlines():
        if fence:
            if line == fence:
                fence = None
                continue
            assert not line.startswith("```"), line
            if kind == "diff":
                assert line.startswith(("@@ ", "+ ", "- ", "  (")), line
            else:
                assert line.startswith("contact "), line
            continue
        opened = FENCE.match(line)
        if opened:
            fence, kind = opened.group(1), opened.group(2)
        elif line == "<details>":
            depth += 1
        elif line == "</details>":
            depth -= 1
            assert depth >= 0
        elif line.startswith("<summary>"):
            inner = re.sub(r"</?(summary|code)>", "", line)
            assert "<" not in inner and ">" not in inner, line
        else:
            assert "<" not in line, line  # titles, tables and notes carry no user data
    assert fence is None and depth == 0


def check_golden(name: str, documents: list[str]) -> None:
    folder = CASES / name
    files = (["expected.md"] if len(documents) == 1 and not name.endswith("split")
             else [f"part-{i:03d}.md" for i in range(1, len(documents) + 1)])
    if UPDATE_GOLDEN:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.md"):
            old.unlink()
        for file, document in zip(files, documents):
            (folder / file).write_text(document)
    assert sorted(p.name for p in folder.glob("*.md")) == files
    for file, document in zip(files, documents):
        assert document == (folder / file).read_text(), f"{name}/{file}:\n{document}"


GOLDEN = {
    "small_plan": lambda: [render(small_plan(), sensitive=SENSITIVE)],
    "small_plan_listed": lambda: [render(small_plan(), sensitive=SENSITIVE, limit=1000)],
    "small_plan_left_out": lambda: [render(small_plan(), sensitive=SENSITIVE, limit=600)],
    "small_plan_split": lambda: split(small_plan(), sensitive=SENSITIVE, limit=1200),
    "huge_contact_split": lambda: split(Plan((huge_contact(changes=60),)), limit=1600),
    "empty_plan": lambda: [render(Plan((ContactPlan(5, "A", "a.yaml", {}),
                                        ContactPlan(6, "B", "b.yaml", {}))))],
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name):
    documents = GOLDEN[name]()
    for document in documents:
        assert_well_formed(document)
    check_golden(name, documents)


def test_golden_cases_are_the_stages_they_are_named_for():
    full, listed, left_out = (GOLDEN[n]()[0] for n in
                              ("small_plan", "small_plan_listed", "small_plan_left_out"))
    assert detailed_ids(full) == [77, 900, 1042] and NOTE.search(full) is None
    note = NOTE.search(listed)
    assert note and note.group(4).startswith("listed") and "more contact" in listed
    assert detailed_ids(listed) + listed_ids(listed) == [77, 900, 1042]
    note = NOTE.search(left_out)
    assert note and note.group(4) == "left out" and not listed_ids(left_out)
    assert int(note.group(1)) == len(detailed_ids(left_out)) < 3
    assert f"… and {note.group(3)} more contact" in left_out
    assert len(GOLDEN["small_plan_split"]()) > 1
    assert "left out" in GOLDEN["huge_contact_split"]()[0]


def test_updates_are_a_removed_and_an_added_line_so_github_colours_them():
    doc = render(small_plan())
    assert '- address1: "12 Oak St"\n+ address1: "14 Oak St"\n' in doc
    assert '+ postal: "62701"\n' in doc
    assert '- contactReferences[Legacy:L-1]: {source: "Legacy", id: "L-1"}\n' in doc
    assert '- address2: "Apt 3"\n+ address2: null\n' in doc
    assert "@@ PUT /api/ContactIndividual/2001 @@\n" in doc
    assert "@@ PUT /api/Contact/Unarchive/77 @@\n" in doc


def test_user_data_cannot_break_out_of_the_markdown():
    doc = render(small_plan())
    assert_well_formed(doc)
    lines = doc.splitlines()  # `</details>` in data is escaped or inside a code block: inert
    assert lines.count("<details>") == lines.count("</details>") == 3
    assert "Evil &lt;/details&gt;&lt;script&gt;x&lt;/script&gt; `Co` @someone" in doc
    assert '+ customFields["Line\\nBreak"]: "```\\n</details>"' in doc  # literal in the code
    assert '+ description: "`code` and </details> <b>bold</b>"' in doc


def test_a_fence_is_longer_than_any_backtick_run_inside():
    contact = ContactPlan(3, "T", "t.yaml", {}, (
        PutContact(3, (change("notes", ADD, None, "a ```` b"),), "t.yaml"),))
    doc = render(Plan((contact,)))
    assert "\n`````diff\n" in doc and "\n`````\n" in doc
    assert_well_formed(doc)


def test_sensitive_fields_are_masked_in_markdown_and_never_in_the_plan():
    plan = small_plan()
    masked = render(plan, sensitive=SENSITIVE)
    assert "1980-04-02" not in masked and "1980-04-20" not in masked
    assert "2020-01-01" not in masked
    assert "- birthDate: (sensitive)\n+ birthDate: (sensitive)\n" in masked
    assert "- deceasedDate: (sensitive)\n+ deceasedDate: (sensitive)\n" in masked
    assert "(sensitive)" not in render(plan)  # nothing is masked unless asked
    assert "1980-04-02" in render(plan) and "2020-01-01" in render(plan)
    assert plan == small_plan()  # the plan (what the plan file holds) keeps its values
    birth = plan.contacts[2].operations[1].changes[0]
    assert (birth.before, birth.after) == ("1980-04-02", "1980-04-20")
    assert all("1980" not in part for part in split(plan, sensitive=SENSITIVE, limit=2000))


def test_a_sensitive_key_inside_an_added_item_is_masked():
    contact = ContactPlan(3, "T", "t.yaml", {}, (PutContact(3, (
        change("relatives[new]", ADD, None, {"name": "Ann", "birthDate": "1950-05-05"},
               path=("relatives", "new")),), "t.yaml"),))
    doc = render(Plan((contact,)), sensitive=SENSITIVE)
    assert '+ relatives[new]: {name: "Ann", birthDate: (sensitive)}' in doc
    assert "1950" not in doc


def test_an_empty_plan_says_so_plainly():
    plan = Plan((ContactPlan(5, "A", "a.yaml", {}), ContactPlan(6, "B", "b.yaml", {})))
    assert render(plan) == ("### planner plan\n\n"
                            "No changes. 2 contacts already match the desired state.\n")
    assert render(Plan(())).endswith("No changes. 0 contacts already match the desired state.\n")
    (part,) = split(plan)
    assert part.startswith("### planner plan (part 1 of 1)\n") and "No changes." in part


def test_2000_changed_contacts_render_within_a_comment_and_say_how_many_are_left_out():
    plan = many_contacts(2000)
    started = time.perf_counter()
    doc = render(plan, sensitive=SENSITIVE)
    took = time.perf_counter() - started
    assert len(doc) <= LIMIT == 65_000
    assert_well_formed(doc)
    shown = detailed_ids(doc)
    assert shown == [c.contact_id for c in plan.changed[:len(shown)]] and len(shown) > 50
    note = NOTE.search(doc)
    assert note and note.group(4) == "left out"  # 2,000 one-line listings do not fit either
    assert (int(note.group(1)), int(note.group(2))) == (len(shown), 2000)
    assert int(note.group(3)) == 2000 - len(shown)
    assert f"… and {2000 - len(shown)} more contacts, left out of this comment." in doc
    assert "planner show PLANFILE" in doc and "--split DIR" in doc
    assert "| 2000 | 12000 | 0 |" in doc
    assert took < 5, took


def test_2000_changed_contacts_split_into_parts_that_together_name_every_contact_once():
    plan = many_contacts(2000)
    started = time.perf_counter()
    parts = split(plan, sensitive=SENSITIVE)
    took = time.perf_counter() - started
    assert len(parts) > 1
    seen: list[int] = []
    for number, part in enumerate(parts, 1):
        assert len(part) <= LIMIT
        assert_well_formed(part)
        assert PART.findall(part) == [(str(number), str(len(parts)))]
        assert "| 2000 | 12000 | 0 |" in part  # the summary of the whole plan, repeated
        ids = detailed_ids(part)
        held = re.search(r"This part holds (\d+) of the 2000 contacts to change "
                         r"\(positions (\d+) to (\d+) in the plan\)", part)
        assert held and int(held.group(1)) == len(ids)
        assert (int(held.group(2)), int(held.group(3))) == (len(seen) + 1, len(seen) + len(ids))
        assert "left out" not in part  # full detail: nothing collapsed
        seen += ids
    assert seen == [c.contact_id for c in plan.changed]  # every contact once, in plan order
    assert took < 5, took


def test_a_huge_single_contact_still_fits():
    plan = Plan((huge_contact(1, 3000),) + many_contacts(3).contacts)
    doc = render(plan)
    assert len(doc) <= LIMIT and 1 in detailed_ids(doc) + listed_ids(doc)
    assert_well_formed(doc)
    parts = split(plan)
    assert all(len(part) <= LIMIT for part in parts)
    assert sorted(i for p in parts for i in detailed_ids(p)) == [1, 10_000, 10_001, 10_002]
    (first, *rest) = parts
    assert detailed_ids(first) == [1]  # alone in its part, heading kept
    kept = first.count("\n+ customFields[")
    left = re.search(r"_(\d+) of this contact's 3000 changes are left out", first)
    assert left and 0 < kept and kept + int(left.group(1)) == 3000
    assert f"1 operation, 3000 changes ({left.group(1)} left out)" in first
    assert all("left out" not in part for part in rest)


def test_a_single_value_longer_than_a_comment_still_fits():
    contact = ContactPlan(2, "Long Note", "plans/long.yaml", {}, (PutContact(2, (
        change("description", UPDATE, "short", "x" * 100_000),
        change("name", UPDATE, "A", "B")), "plans/long.yaml"),))
    plan = Plan((contact,))
    doc = render(plan)
    assert len(doc) <= LIMIT and listed_ids(doc) == [2]
    (part,) = split(plan)
    assert len(part) <= LIMIT and detailed_ids(part) == [2]
    assert "@@ PUT /api/Contact/2 @@\n  (2 more changes of this request left out)\n" in part
    assert "2 operations" not in part and "1 operation, 2 changes (2 left out)" in part


def test_a_limit_too_small_for_any_heading_is_refused_not_exceeded():
    plan = many_contacts(3)
    with pytest.raises(ValueError):
        split(plan, limit=400)
    with pytest.raises(ValueError):
        render(plan, limit=100)


def test_every_limit_fits_and_accounts_for_every_contact():
    """A sweep of limits through every collapse stage: the output always fits, and what it
    shows, lists and says it left out adds up to the plan."""
    plan = many_contacts(30)
    ids = [c.contact_id for c in plan.changed]
    full = render(plan)
    stages, smallest = set(), None
    for limit in range(300, len(full) + 200, 89):
        try:
            doc = render(plan, limit=limit)
        except ValueError:
            assert smallest is None, f"limit {limit} refused after {smallest} worked"
            continue
        smallest = smallest or limit
        assert len(doc) <= limit
        assert_well_formed(doc)
        shown, listed = detailed_ids(doc), listed_ids(doc)
        note = NOTE.search(doc)
        if note is None:
            stages.add("full")
            assert doc == full
            continue
        said_shown, total, other, how = note.groups()
        assert (int(said_shown), int(total)) == (len(shown), 30)
        assert shown == ids[:len(shown)]
        if how.startswith("listed"):
            stages.add("listed")
            assert shown + listed == ids and int(other) == len(listed)
            assert f"<summary>{len(listed)} more contact" in doc
        else:
            stages.add("left out")
            assert not listed and int(other) == 30 - len(shown)
    assert stages == {"full", "listed", "left out"}
    assert smallest is not None and smallest < 1000
    with pytest.raises(ValueError):
        render(plan, limit=200)


@pytest.mark.parametrize("limit", [1200, 1500, 2500, 6000])
def test_split_parts_fit_any_workable_limit(limit):
    plan = Plan((huge_contact(1, 50),) + many_contacts(12).contacts)
    parts = split(plan, sensitive=SENSITIVE, limit=limit)
    assert all(len(part) <= limit for part in parts)
    for part in parts:
        assert_well_formed(part)
    assert [i for p in parts for i in detailed_ids(p)] == [c.contact_id for c in plan.changed]


def test_rendering_is_deterministic():
    plan = many_contacts(300)
    assert render(plan, limit=20_000) == render(many_contacts(300), limit=20_000)
    assert split(plan, limit=20_000) == split(many_contacts(300), limit=20_000)
