"""What the sandbox answers to reads: shapes, typing modes, timestamps, lookups, bulk query."""
from __future__ import annotations

import re

from planner import model

LIVE_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$")


def test_contact_get_has_every_schema_field(sandbox, api):
    contact = api(sandbox).get(f"{sandbox.url}/api/Contact/1").json()
    assert list(contact) == list(model.fields("Contact"))
    assert "addresses" not in contact
    assert contact["address"]["id"] == 201 and contact["address"]["isPrimary"] is True
    assert set(contact["address"]) == set(model.fields("ContactAddress"))
    jane = contact["contactIndividuals"][0]
    assert set(jane) == set(model.fields("ContactIndividual"))
    assert set(jane["contactMethods"][0]) == set(model.fields("ContactMethod"))
    assert contact["lifeToDateGiving"] == "$1,200.00"
    assert contact["customFields"][0] == {"name": "Donor Segment", "value": "Major",
                                          "displayName": "Donor Segment"}
    assert contact["contactReferences"] == [{"source": "Shop", "id": "S-1001"}]
    assert contact["contactViewUrl"].endswith("/1")


def test_contact_without_primary_address_shows_null(sandbox, api):
    assert api(sandbox).get(f"{sandbox.url}/api/Contact/3").json()["address"] is None


def test_seed_defaults_fill_missing_fields_and_ids(make_sandbox, api):
    server = make_sandbox(contacts=[
        {"id": 5, "name": "Bare", "contactIndividuals": [
            {"firstName": "Al", "contactMethods": [{"type": "Home Email", "value": "al@x.example"}]}],
         "address": {"address1": "1 Road"}},
        {"name": "No id"}])
    bare = api(server).get(f"{server.url}/api/Contact/5").json()
    assert list(bare) == list(model.fields("Contact"))
    assert bare["isArchived"] is False and bare["tags"] == []
    assert LIVE_STAMP.match(bare["createDateTimeUtc"]) and bare["createdByUser"]
    assert bare["contactIndividuals"][0]["id"] == 1 and bare["contactIndividuals"][0]["contactId"] == 5
    assert bare["address"]["id"] == 1 and bare["address"]["isPrimary"] is True
    assert api(server).get(f"{server.url}/api/Contact/6").json()["name"] == "No id"


def test_sub_resource_reads(sandbox, api):
    session = api(sandbox)
    assert session.get(f"{sandbox.url}/api/ContactIndividual/12").json()["firstName"] == "John"
    assert [i["id"] for i in session.get(
        f"{sandbox.url}/api/ContactIndividual/ByContact/1").json()] == [11, 12]
    assert session.get(f"{sandbox.url}/api/ContactAddress/202").json()["label"] == "Summer"
    addresses = session.get(f"{sandbox.url}/api/ContactAddress/ByContact/1").json()
    assert [(a["id"], a["isPrimary"]) for a in addresses] == [(201, True), (202, False)]


def test_string_typed_mode_renders_booleans_and_numbers_as_strings(make_sandbox, api):
    server = make_sandbox(string_typed=True)
    session = api(server)
    contact = session.get(f"{server.url}/api/Contact/1").json()
    assert contact["id"] == "1" and contact["isPrivate"] == "false"
    assert contact["anniversaryYear"] == "1998" and contact["alternateContactName"] is None
    method = contact["contactIndividuals"][0]["contactMethods"][0]
    assert method["isPrimary"] == "true" and method["id"] == "101"
    assert session.get(f"{server.url}/api/ContactAddress/201").json()["isPrimary"] == "true"
    page = session.post(f"{server.url}/api/Contact/Query/FullContact", json={}).json()
    assert page["total"] == 3 and page["list"][0]["isArchived"] == "false"
    # writes still need natural types
    answer = session.put(f"{server.url}/api/Contact/1", json={"isPrivate": "true"})
    assert answer.status_code == 400
    answer = session.put(f"{server.url}/api/Contact/1", json={"isPrivate": True})
    assert answer.status_code == 200 and answer.json()["isPrivate"] == "true"


def test_modified_stamp_is_live_format_and_strictly_increasing(sandbox, api):
    session = api(sandbox)
    stamps = [session.get(f"{sandbox.url}/api/Contact/1").json()["modifiedDateTimeUtc"]]
    writes = [("put", "Contact/1", {"description": "a"}),
              ("put", "ContactIndividual/11", {"nickname": "J"}),
              ("put", "ContactAddress/202", {"city": "Orleans"}),
              ("put", "Contact/Archive/1", None), ("put", "Contact/Unarchive/1", None)]
    for _ in range(3):
        for method, path, body in writes:
            answer = session.request(method, f"{sandbox.url}/api/{path}", json=body)
            assert answer.status_code == 200
            stamps.append(sandbox.contact(1)["modifiedDateTimeUtc"])
    assert all(LIVE_STAMP.match(s) for s in stamps)
    assert all(a < b for a, b in zip(stamps, stamps[1:])), stamps
    assert sandbox.contact(1)["modifiedByUser"] == "API"
    assert sandbox.contact(2)["modifiedDateTimeUtc"] == "2025-06-01T12:00:00.1234567"


def test_stamp_increases_even_when_the_clock_stalls(sandbox, api, monkeypatch):
    monkeypatch.setattr("planner.sandbox.store.time.time_ns", lambda: 1_700_000_000 * 10**9)
    session = api(sandbox)
    stamps = [session.put(f"{sandbox.url}/api/Contact/2", json={"description": str(i)}).json()
              ["modifiedDateTimeUtc"] for i in range(3)]
    # the seed's stamp is later than the frozen clock, so each write goes one tick past it
    assert stamps == ["2025-06-01T12:00:00.1234568", "2025-06-01T12:00:00.1234569",
                      "2025-06-01T12:00:00.1234570"]


def test_find_by_email_any_type_case_insensitive(sandbox, api):
    session = api(sandbox)
    found = session.get(f"{sandbox.url}/api/Contact/Find", params={"email": "JANE.SMITH@work.example.com"})
    assert found.status_code == 200 and found.json()["id"] == 1
    assert session.get(f"{sandbox.url}/api/Contact/Find",
                       params={"email": "sam@old.example.net"}).json()["id"] == 3
    # a phone value is not an email
    assert session.get(f"{sandbox.url}/api/Contact/Find",
                       params={"email": "617-555-0101"}).status_code == 404


def test_find_by_reference(sandbox, api):
    session = api(sandbox)
    found = session.get(f"{sandbox.url}/api/Contact/Find",
                        params={"referenceSource": "Shop", "referenceId": "S-1001"})
    assert found.json()["id"] == 1
    assert session.get(f"{sandbox.url}/api/Contact/Find", params={
        "referenceSource": "Shop", "referenceId": "S-1002"}).status_code == 404


def test_find_sees_a_changed_email(sandbox, api):
    session = api(sandbox)
    session.put(f"{sandbox.url}/api/ContactIndividual/21", json={"contactMethods": [
        {"id": 105, "value": "pat@acme.example.org"}]})
    assert session.get(f"{sandbox.url}/api/Contact/Find",
                       params={"email": "pat@acme.example.com"}).status_code == 404
    assert session.get(f"{sandbox.url}/api/Contact/Find",
                       params={"email": "pat@acme.example.org"}).json()["id"] == 2


def test_archive_and_unarchive_are_idempotent(sandbox, api):
    session = api(sandbox)
    first = session.put(f"{sandbox.url}/api/Contact/Archive/2")
    assert first.status_code == 200 and first.json()["isArchived"] is True
    again = session.put(f"{sandbox.url}/api/Contact/Archive/2").json()
    assert again["isArchived"] is True
    assert again["modifiedDateTimeUtc"] == first.json()["modifiedDateTimeUtc"]  # a no-op
    assert session.put(f"{sandbox.url}/api/Contact/Unarchive/2").json()["isArchived"] is False
    assert session.put(f"{sandbox.url}/api/Contact/Unarchive/2").json()["isArchived"] is False
    assert sandbox.contact(2)["isArchived"] is False


def _query(session, url, groups, **extra):
    answer = session.post(f"{url}/api/Contact/Query/FullContact",
                          params={k: v for k, v in extra.items() if k in ("skip", "take")},
                          json={"groups": groups, **{k: v for k, v in extra.items()
                                                     if k not in ("skip", "take")}})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _cond(parameter, operator, value):
    return {"parameter": parameter, "operator": operator, "value": value}


def test_bulk_query_groups_or_and_conditions_and(sandbox, api):
    session = api(sandbox)
    page = _query(session, sandbox.url, [{"conditions": [_cond("Contact Id", "Is", 1)]},
                                         {"conditions": [_cond("Contact Id", "Is", "3")]}])
    assert [c["id"] for c in page["list"]] == [1, 3] and page["total"] == 2
    assert page["list"][0] == api(sandbox).get(f"{sandbox.url}/api/Contact/1").json()
    page = _query(session, sandbox.url, [{"conditions": [_cond("Contact Id", "Is", 1),
                                                         _cond("Contact Id", "Is", 3)]}])
    assert page == {"list": [], "total": 0}


def test_bulk_query_last_modified_after(sandbox, api):
    session = api(sandbox)
    assert _query(session, sandbox.url, [{"conditions": [
        _cond("Last Modified Date", "After", "2025-06-01T12:00:00.1234567")]}])["total"] == 0
    session.put(f"{sandbox.url}/api/Contact/2", json={"description": "touched"})
    page = _query(session, sandbox.url, [{"conditions": [
        _cond("Last Modified Date", "After", "2025-06-01")]}])
    assert [c["id"] for c in page["list"]] == [1, 2, 3]
    page = _query(session, sandbox.url, [{"conditions": [
        _cond("Last Modified Date", "After", "2025-06-01T12:00:00.1234567Z")]}])
    assert [c["id"] for c in page["list"]] == [2]


def test_bulk_query_paging_sorting_and_max_take(sandbox, api):
    session = api(sandbox)
    page = _query(session, sandbox.url, [], skip=1, take=1)
    assert [c["id"] for c in page["list"]] == [2] and page["total"] == 3
    page = _query(session, sandbox.url, [], sortBy="Id", descending=True, take=1000)
    assert [c["id"] for c in page["list"]] == [3, 2, 1]
    page = _query(session, sandbox.url, [], sortBy="Name")
    assert [c["name"] for c in page["list"]] == ["Acme Foundation", "The Old Household",
                                                 "The Smith Family"]
