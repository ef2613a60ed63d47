"""The sandbox's errors, in the three shapes the live API uses; a failing request changes nothing."""
from __future__ import annotations

import pytest
import requests


def _structured(answer: requests.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    assert isinstance(error["details"], list)
    return error


def test_401_is_plain_text_without_or_with_a_wrong_token(sandbox):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": sandbox.token}):
        answer = requests.get(f"{sandbox.url}/api/Contact/1", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["Content-Type"].startswith("text/plain")
        assert answer.text == "Authorization has been denied for this request."


def test_404_structured_for_every_resource(sandbox, api):
    session = api(sandbox)
    for path in ("Contact/99", "ContactIndividual/99", "ContactAddress/99",
                 "ContactAddress/ByContact/99", "ContactIndividual/ByContact/99",
                 "Contact/Find?email=nobody@example.org",
                 "Contact/Find?referenceSource=Shop&referenceId=nope", "NoSuchThing"):
        _structured(session.get(f"{sandbox.url}/api/{path}"), 404, "NOT_FOUND")
    _structured(session.put(f"{sandbox.url}/api/Contact/99", json={}), 404, "NOT_FOUND")
    _structured(session.put(f"{sandbox.url}/api/Contact/Archive/99"), 404, "NOT_FOUND")


def test_malformed_json_is_400(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", data=b'{"name": ',
                              headers={"Content-Type": "application/json"})
    _structured(answer, 400, "MALFORMED_JSON")


def test_unknown_field_is_400_naming_it(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", json={"nmae": "Typo"})
    error = _structured(answer, 400, "UNKNOWN_FIELD")
    assert error["details"][0]["field"] == "nmae"
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/11", json={
        "contactMethods": [{"id": 101, "colour": "red"}]})
    assert _structured(answer, 400, "UNKNOWN_FIELD")["details"][0]["field"] == \
        "contactMethods[0].colour"


@pytest.mark.parametrize("body, field", [
    ({"isPrivate": "true"}, "isPrivate"),
    ({"anniversaryYear": "1998"}, "anniversaryYear"),
    ({"anniversaryYear": True}, "anniversaryYear"),
    ({"name": 7}, "name"),
    ({"tags": ["ok", 3]}, "tags[1]"),
    ({"contactIndividuals": "none"}, "contactIndividuals"),
    ({"contactIndividuals": [{"id": "11"}]}, "contactIndividuals[0].id"),
    ({"contactIndividuals": [{"id": 11, "isDeceased": "false"}]}, "contactIndividuals[0].isDeceased"),
    ({"customFields": [{"name": None}]}, "customFields[0].name"),
])
def test_wrong_type_is_400_naming_the_field(sandbox, api, body, field):
    before = sandbox.contact(1)
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", json=body)
    error = _structured(answer, 400, "WRONG_TYPE")
    assert [d["field"] for d in error["details"]] == [field]
    assert sandbox.contact(1) == before


def test_non_object_body_is_400(sandbox, api):
    _structured(api(sandbox).put(f"{sandbox.url}/api/Contact/1", json=[1]), 400, "WRONG_TYPE")


def test_address_400s_use_the_legacy_shape(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactAddress/201",
                              json={"isPrimary": "yes", "startMonth": "3"})
    assert answer.status_code == 400
    assert answer.json() == {"message": "The request is invalid.", "errors": {
        "isPrimary": ["expected boolean or null, got string"],
        "startMonth": ["expected integer or null, got string"]}}
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactAddress/201", json={"zip": "1"})
    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["zip"]
    assert sandbox.contact(1)["addresses"][0]["isPrimary"] is True


def test_422_bad_email(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/11", json={"contactMethods": [
        {"id": 101, "value": "jane-at-example.org"}, {"id": 102}, {"id": 103}]})
    error = _structured(answer, 422, "VALIDATION_FAILED")
    assert error["details"] == [{"field": "contactMethods[0].value", "code": "INVALID_EMAIL",
                                 "message": "'jane-at-example.org' is not a valid email address"}]


def test_422_bad_email_on_a_new_method_through_the_contact(sandbox, api):
    live = api(sandbox).get(f"{sandbox.url}/api/Contact/1").json()
    live["contactIndividuals"][1]["contactMethods"].append({"type": "Work Email", "value": "john@"})
    error = _structured(api(sandbox).put(f"{sandbox.url}/api/Contact/1", json=live), 422,
                        "VALIDATION_FAILED")
    assert error["details"][0]["field"] == "contactIndividuals[1].contactMethods[1].value"


@pytest.mark.parametrize("name", ["", "   ", None])
def test_422_empty_name(sandbox, api, name):
    error = _structured(api(sandbox).put(f"{sandbox.url}/api/Contact/2", json={"name": name}),
                        422, "VALIDATION_FAILED")
    assert error["details"][0]["field"] == "name"
    assert sandbox.contact(2)["name"] == "Acme Foundation"


def test_422_two_primary_emails_on_one_individual(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/11", json={"contactMethods": [
        {"id": 101}, {"id": 102}, {"id": 103, "isPrimary": True}]})
    error = _structured(answer, 422, "VALIDATION_FAILED")
    assert error["details"][0]["field"] == "contactMethods"
    assert error["details"][0]["code"] == "DUPLICATE_PRIMARY"


def test_a_primary_email_and_a_primary_phone_are_fine(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/11", json={"nickname": "J"})
    assert answer.status_code == 200


def test_409_email_already_on_another_contact(sandbox, api):
    before = sandbox.contact(1)
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/11", json={"contactMethods": [
        {"id": 101, "value": "PAT@acme.example.com"}, {"id": 102}, {"id": 103}]})
    error = _structured(answer, 409, "DUPLICATE_EMAIL")
    assert error["details"][0]["field"] == "contactIndividuals[0].contactMethods[0].value"
    assert sandbox.contact(1) == before


def test_same_email_on_two_individuals_of_one_contact_is_fine(sandbox, api):
    answer = api(sandbox).put(f"{sandbox.url}/api/ContactIndividual/12", json={"contactMethods": [
        {"id": 104, "value": "jane@example.org"}]})
    assert answer.status_code == 200


def test_unknown_item_id_is_422_and_changes_nothing(sandbox, api):
    before = sandbox.contact(1)
    live = api(sandbox).get(f"{sandbox.url}/api/Contact/1").json()
    live["description"] = "should not land"
    live["contactIndividuals"][0]["id"] = 21  # Pat belongs to contact 2
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", json=live)
    assert _structured(answer, 422, "VALIDATION_FAILED")["details"][0]["code"] == "UNKNOWN_ID"
    assert sandbox.contact(1) == before


def test_a_failing_request_changes_nothing_even_when_most_of_it_is_valid(make_sandbox, api):
    server = make_sandbox(put_semantics="replace")
    before = server.store.records()
    body = {"name": "Renamed", "description": "x", "contactIndividuals": [
        {"firstName": "New", "contactMethods": [{"type": "Home Email", "value": "bad"}]}]}
    assert api(server).put(f"{server.url}/api/Contact/1", json=body).status_code == 422
    assert server.store.records() == before
    # and the ids a failed write would have used are still free
    ok = api(server).put(f"{server.url}/api/Contact/1", json={**body, "contactIndividuals": [
        {"firstName": "New", "contactMethods": [{"type": "Home Email", "value": "new@x.example"}]}]})
    assert ok.status_code == 200
    new = ok.json()["contactIndividuals"][0]
    assert new["id"] == 32 and new["contactMethods"][0]["id"] == 107


def test_query_errors(sandbox, api):
    url = f"{sandbox.url}/api/Contact/Query/FullContact"
    session = api(sandbox)
    error = _structured(session.post(f"{url}?take=1001", json={"groups": []}), 400,
                        "INVALID_PARAMETER")
    assert error["details"][0]["field"] == "take"
    _structured(session.post(f"{url}?skip=-1", json={}), 400, "INVALID_PARAMETER")
    bad = {"groups": [{"conditions": [{"parameter": "Shoe Size", "operator": "Is", "value": 1}]}]}
    error = _structured(session.post(url, json=bad), 400, "UNKNOWN_PARAMETER")
    assert error["details"][0]["field"] == "groups[0].conditions[0].parameter"
    bad = {"groups": [{"conditions": [{"parameter": "Contact Id", "operator": "Like", "value": 1}]}]}
    _structured(session.post(url, json=bad), 400, "UNKNOWN_OPERATOR")
    bad = {"groups": [{"conditions": [
        {"parameter": "Last Modified Date", "operator": "After", "value": "yesterday"}]}]}
    _structured(session.post(url, json=bad), 400, "INVALID_PARAMETER")
    _structured(session.post(url, json={"sortBy": "Shoe Size"}), 400, "UNKNOWN_PARAMETER")


def test_find_without_parameters_is_400(sandbox, api):
    _structured(api(sandbox).get(f"{sandbox.url}/api/Contact/Find"), 400, "MISSING_PARAMETER")


def test_method_not_allowed_is_structured(sandbox, api):
    _structured(api(sandbox).delete(f"{sandbox.url}/api/Contact/1"), 405, "METHOD_NOT_ALLOWED")
