"""The sandbox's PUT semantics: `replace` clears what a body omits, `patch` keeps it; lists
present in a body replace the stored list wholesale under both."""
from __future__ import annotations

import pytest

from planner import model


def test_partial_contact_put_clears_omitted_fields_under_replace(make_sandbox, api):
    server = make_sandbox(put_semantics="replace")
    answer = api(server).put(f"{server.url}/api/Contact/1",
                             json={"name": "The Smith Family", "description": "Updated"})
    assert answer.status_code == 200
    stored = server.contact(1)
    assert stored["description"] == "Updated"
    assert stored["website"] is None and stored["maritalStatus"] is None
    assert stored["anniversaryYear"] is None and stored["isPrivate"] is None
    # absent lists become empty: the individuals, custom fields and references are gone
    assert stored["contactIndividuals"] == [] and stored["customFields"] == []
    assert stored["contactReferences"] == [] and stored["tags"] == []
    # absent `address` deletes the primary address; the other one stays
    assert [a["id"] for a in stored["addresses"]] == [202]
    # read-only fields survive
    assert stored["lifeToDateGiving"] == "$1,200.00" and stored["createdByUser"] == "Seed"
    assert answer.json()["address"] is None and answer.json()["website"] is None


def test_partial_contact_put_keeps_omitted_fields_under_patch(sandbox, api):
    before = sandbox.contact(1)
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", json={"description": "Updated"})
    assert answer.status_code == 200
    after = sandbox.contact(1)
    assert after["description"] == "Updated"
    for name in ("website", "maritalStatus", "anniversaryYear", "isPrivate", "contactIndividuals",
                 "customFields", "contactReferences", "tags", "addresses", "name"):
        assert after[name] == before[name], name


def test_present_list_replaces_wholesale_under_both(make_sandbox, api, put_semantics):
    server = make_sandbox(put_semantics=put_semantics)
    session = api(server)
    live = session.get(f"{server.url}/api/Contact/1").json()
    live["customFields"] = [{"name": "Donor Segment", "value": "Mid"}]
    live["contactIndividuals"] = [live["contactIndividuals"][0]]  # John (12) is left out
    assert session.put(f"{server.url}/api/Contact/1", json=live).status_code == 200
    stored = server.contact(1)
    assert [i["id"] for i in stored["contactIndividuals"]] == [11]
    assert stored["customFields"] == [
        {"name": "Donor Segment", "value": "Mid", "displayName": "Donor Segment"}]
    assert session.get(f"{server.url}/api/ContactIndividual/12").status_code == 404


def test_full_record_round_trip_changes_nothing_but_the_stamp(make_sandbox, api, put_semantics):
    server = make_sandbox(put_semantics=put_semantics)
    session = api(server)
    before = session.get(f"{server.url}/api/Contact/1").json()
    after = session.put(f"{server.url}/api/Contact/1", json=before).json()
    assert after["modifiedDateTimeUtc"] > before["modifiedDateTimeUtc"]
    assert after["modifiedByUser"] == "API"
    for name in ("modifiedDateTimeUtc", "modifiedByUser"):
        before.pop(name), after.pop(name)
    assert after == before
    assert len(server.contact(1)["addresses"]) == 2


def test_individual_put_replace_clears_and_methods_list_replaces(make_sandbox, api):
    server = make_sandbox(put_semantics="replace")
    answer = api(server).put(f"{server.url}/api/ContactIndividual/11",
                             json={"firstName": "Janet", "contactMethods": [
                                 {"id": 101, "type": "Home Email", "value": "janet@example.org",
                                  "isPrimary": True}]})
    assert answer.status_code == 200
    jane = server.contact(1)["contactIndividuals"][0]
    assert jane["firstName"] == "Janet" and jane["lastName"] is None and jane["birthYear"] is None
    assert [m["id"] for m in jane["contactMethods"]] == [101]
    assert jane["contactMethods"][0]["isOptedIn"] is None  # omitted inside the item: cleared too
    assert jane["contactId"] == 1 and jane["canBePrimary"] is True  # read-only kept


def test_individual_put_patch_keeps_and_new_method_gets_next_id(sandbox, api):
    body = {"nickname": "Jay", "contactMethods": [{"id": 101}, {"type": "Home Phone",
                                                               "value": "617-555-0199"}]}
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/11", json=body)
    assert answer.status_code == 200
    jane = sandbox.contact(1)["contactIndividuals"][0]
    assert jane["nickname"] == "Jay" and jane["lastName"] == "Smith"
    methods = {m["id"]: m for m in jane["contactMethods"]}
    assert sorted(methods) == [101, 107]  # 102 and 103 dropped; max id 106 + 1
    assert methods[101]["value"] == "jane@example.org"  # patch inside the matched item
    assert methods[107]["isPrimary"] is None and methods[107]["canBePrimary"] is True
    assert answer.json()["contactMethods"][1]["id"] == 107


def test_address_put_under_both_semantics(make_sandbox, api, put_semantics):
    server = make_sandbox(put_semantics=put_semantics)
    answer = api(server).put(f"{server.url}/api/ContactAddress/202", json={"city": "Orleans"})
    assert answer.status_code == 200
    summer = next(a for a in server.contact(1)["addresses"] if a["id"] == 202)
    assert summer["city"] == "Orleans"
    if put_semantics == "replace":
        assert summer["address1"] is None and summer["label"] is None
    else:
        assert summer["address1"] == "4 Dune Rd" and summer["label"] == "Summer"


def test_address_put_making_it_primary_demotes_the_other(sandbox, api):
    api(sandbox).put(f"{sandbox.url}/api/ContactAddress/202", json={"isPrimary": True})
    addresses = {a["id"]: a["isPrimary"] for a in sandbox.contact(1)["addresses"]}
    assert addresses == {201: False, 202: True}
    assert api(sandbox).get(f"{sandbox.url}/api/Contact/1").json()["address"]["id"] == 202


def test_contact_put_address_object_and_null(make_sandbox, api, put_semantics):
    server = make_sandbox(put_semantics=put_semantics)
    session = api(server)
    answer = session.put(f"{server.url}/api/Contact/1",
                         json={"name": "The Smith Family", "address": {"id": 201, "city": "Quincy"}})
    assert answer.status_code == 200
    home = next(a for a in server.contact(1)["addresses"] if a["id"] == 201)
    assert home["city"] == "Quincy" and home["isPrimary"] is True
    assert (home["address1"] is None) == (put_semantics == "replace")
    session.put(f"{server.url}/api/Contact/1", json={"name": "The Smith Family", "address": None})
    assert [a["id"] for a in server.contact(1)["addresses"]] == [202]


def test_contact_put_address_naming_another_address_makes_it_primary(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", json={"address": {"id": 202}})
    assert answer.json()["address"]["id"] == 202 and answer.json()["address"]["city"] == "Chatham"
    assert {a["id"]: a["isPrimary"] for a in sandbox.contact(1)["addresses"]} == {201: False, 202: True}
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", json={"address": {"id": 203}})
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "address.id"


def test_contact_put_new_address_takes_the_primary_slot(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1",
                              json={"address": {"address1": "9 New St", "city": "Boston"}})
    assert answer.json()["address"]["id"] == 204  # max address id 203 + 1
    assert sorted(a["id"] for a in sandbox.contact(1)["addresses"]) == [202, 204]


@pytest.mark.parametrize("field, value", [
    ("isArchived", False), ("id", 99), ("createDateTimeUtc", "2000-01-01T00:00:00"),
    ("lifeToDateGiving", "$9.00"), ("modifiedByUser", "Mallory"), ("contactViewUrl", "x"),
])
def test_read_only_fields_sent_back_are_ignored(make_sandbox, api, field, value):
    server = make_sandbox(put_semantics="replace")
    before = server.contact(3)
    body = {k: v for k, v in api(server).get(f"{server.url}/api/Contact/3").json().items()}
    body[field] = value
    assert api(server).put(f"{server.url}/api/Contact/3", json=body).status_code == 200
    after = server.contact(3)
    if field != "modifiedByUser":
        assert after[field] == before[field]
    assert after["modifiedByUser"] == "API" and after["isArchived"] is True


def test_nested_read_only_fields_are_ignored(sandbox, api):
    body = {"canBePrimary": False, "contactId": 2, "contactMethods": [
        {"id": 101, "canBePrimary": False}]}
    assert api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/11", json=body).status_code == 200
    jane = sandbox.contact(1)["contactIndividuals"][0]
    assert jane["canBePrimary"] is True and jane["contactId"] == 1
    assert jane["contactMethods"][0]["canBePrimary"] is True


def test_every_writable_field_is_cleared_by_an_empty_replace_body(make_sandbox, api):
    server = make_sandbox(put_semantics="replace")
    api(server).put(f"{server.url}/api/ContactIndividual/21", json={})
    pat = server.contact(2)["contactIndividuals"][0]
    for name, f in model.writable("ContactIndividual").items():
        assert pat[name] == ([] if f.kind == "array" else None), name
