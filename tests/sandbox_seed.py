"""A small hand-made sandbox seed: three contacts whose every id and value tests may rely on.

1   household "The Smith Family": individuals 11 (Jane, primary: Home Email 101 primary,
    Mobile Phone 102 primary, Work Email 103) and 12 (John: Home Email 104 primary);
    addresses 201 (primary) and 202; two custom fields; one reference Shop/S-1001.
2   organisation "Acme Foundation": individual 21 (Pat: Work Email 105 primary); address 203.
3   archived household "The Old Household": individual 31 (Sam: Home Email 106 primary).
"""
from __future__ import annotations

CREATED = "2024-01-15T10:00:00.0000000"
MODIFIED = "2025-06-01T12:00:00.1234567"


def _method(mid: int, kind: str, value: str, primary: bool) -> dict:
    return {"id": mid, "type": kind, "value": value, "isOptedIn": True,
            "isPrimary": primary, "canBePrimary": True}


def _individual(iid: int, cid: int, first: str, last: str, primary: bool, methods: list) -> dict:
    return {"id": iid, "contactId": cid, "prefix": None, "firstName": first, "middleName": None,
            "lastName": last, "suffix": None, "nickname": None, "gender": None,
            "isPrimary": primary, "isSecondary": not primary, "canBePrimary": True,
            "canBeSecondary": True, "birthMonth": 4 if primary else None, "birthDay": 9,
            "birthYear": 1970, "birthDate": "4/9/1970", "isDeceased": False,
            "deceasedDate": None, "contactMethods": methods, "customFields": []}


def _address(aid: int, label: str, street: str, city: str, primary: bool) -> dict:
    return {"id": aid, "label": label, "address1": street, "address2": None, "city": city,
            "state": "MA", "postal": "02134", "country": "USA", "isPrimary": primary,
            "canBePrimary": True, "startMonth": None, "startDay": None, "endMonth": None,
            "endDay": None}


def _contact(cid: int, kind: str, name: str, **fields: object) -> dict:
    record = {
        "id": cid, "contactType": kind, "name": name, "informalName": None,
        "formalContactName": name, "alternateContactName": None,
        "preferredSalutationName": None, "preferredAddresseeName": None,
        "description": None, "website": None, "maritalStatus": None, "isPrivate": False,
        "anniversaryMonth": None, "anniversaryDay": None, "anniversaryYear": None,
        "isArchived": False, "addresses": [], "contactIndividuals": [], "customFields": [],
        "customCollections": [], "contactReferences": [], "tags": [], "organizationGroups": [],
        "lifeToDateGiving": "$0.00", "yearToDateGiving": "$0.00", "lastGiftAmount": None,
        "lastGiftDate": None, "mergedIntoContactId": None, "createDateTimeUtc": CREATED,
        "createdByUser": "Seed", "modifiedDateTimeUtc": MODIFIED, "modifiedByUser": "Seed",
        "contactViewUrl": f"https://app.virtuoussoftware.com/Generosity/Contact/View/{cid}",
        "contactEditUrl": f"https://app.virtuoussoftware.com/Generosity/Contact/Edit/{cid}",
    }
    record.update(fields)
    return record


def seed_contacts() -> list[dict]:
    """Three contacts in the sandbox seed format (fresh objects on every call)."""
    smith = _contact(
        1, "Household", "The Smith Family", informalName="Jane & John",
        description="Long-time supporters", website="https://smith.example.org",
        maritalStatus="Married", anniversaryMonth=6, anniversaryDay=12, anniversaryYear=1998,
        addresses=[_address(201, "Home", "12 Maple St", "Boston", True),
                   _address(202, "Summer", "4 Dune Rd", "Chatham", False)],
        contactIndividuals=[
            _individual(11, 1, "Jane", "Smith", True, [
                _method(101, "Home Email", "jane@example.org", True),
                _method(102, "Mobile Phone", "617-555-0101", True),
                _method(103, "Work Email", "jane.smith@work.example.com", False)]),
            _individual(12, 1, "John", "Smith", False, [
                _method(104, "Home Email", "john@example.org", True)]),
        ],
        customFields=[{"name": "Donor Segment", "value": "Major", "displayName": "Donor Segment"},
                      {"name": "Newsletter", "value": "Monthly", "displayName": "Newsletter"}],
        contactReferences=[{"source": "Shop", "id": "S-1001"}],
        tags=["Gala 2025"], lifeToDateGiving="$1,200.00", yearToDateGiving="$250.00",
        lastGiftAmount="$250.00", lastGiftDate="2025-05-20")
    acme = _contact(
        2, "Organization", "Acme Foundation", website="https://acme.example.com",
        addresses=[_address(203, "Office", "1 Main St", "Springfield", True)],
        contactIndividuals=[_individual(21, 2, "Pat", "Lee", True, [
            _method(105, "Work Email", "pat@acme.example.com", True)])])
    old = _contact(
        3, "Household", "The Old Household", isArchived=True,
        contactIndividuals=[_individual(31, 3, "Sam", "Old", True, [
            _method(106, "Home Email", "sam@old.example.net", True)])])
    return [smith, acme, old]
