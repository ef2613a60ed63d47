"""Deterministic demo contacts for the sandbox: households and organisations, as GET returns them.

`generate(count, seed)` gives the same list for the same arguments on every run and machine:
one `random.Random(seed)`, no `hash()` of strings, no clock, and only integer draws, table
choices and `random()` comparisons (no libm functions whose last bits could vary). Drawing
never looks at `count`, so `generate(n, s)` is a prefix of `generate(m, s)` for n <= m and the
first contacts keep their ids. The first three contacts are pinned to shapes the example plans
rely on (see `_PINNED`); every other trait is random.

Each record has every field of the Contact schema, except that `address` (the primary one,
as GET embeds it) is replaced by `addresses`, the full list the sandbox stores.
Names, streets and cities are plausible; emails use reserved `example.*` domains and phones
the fictional 555-01xx range, so demo data never reaches a real person.
"""
from __future__ import annotations

import calendar
import json
import random
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

import click

from planner.sandbox import demo_tables as T

FIRST_IDS = {"contact": 1001, "individual": 2001, "method": 3001, "address": 4001}
EMAIL_TYPES = ("Home Email", "Work Email")
PHONE_TYPES = ("Mobile Phone", "Home Phone")
REFERENCE_SOURCES = ("Portal", "Shop", "Legacy")
VIEW_URL = "https://app.virtuoussoftware.com/Generosity/Contact/View/{id}"
EDIT_URL = "https://app.virtuoussoftware.com/Generosity/Contact/Edit/{id}"

# Shapes guaranteed for the first contacts whatever the seed, so example plans and tests can
# rely on them: a couple with two addresses, an organisation known to the legacy system, and
# an archived household.
_PINNED: dict[int, dict[str, Any]] = {
    0: {"kind": "Household", "individuals": 2, "addresses": 2, "archived": False},
    1: {"kind": "Organization", "addresses": 1, "archived": False, "legacy": True},
    2: {"kind": "Household", "individuals": 1, "addresses": 1, "archived": True},
}


_EPOCH = datetime(2014, 1, 1)
_CREATED_SPAN = int((datetime(2024, 12, 31) - _EPOCH).total_seconds())
_END = datetime(2025, 6, 30, 23, 59, 59)


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits only: emails and slugs must survive any validator."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def _stamp(moment: datetime, fraction: int) -> str:
    """The live timestamp format: no zone suffix, seven fraction digits."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:07d}"


class _Generator:
    """Draws contacts one at a time from one seeded stream, numbering ids as it goes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.next_id = dict(FIRST_IDS)
        self.emails: set[str] = set()
        self.email_suffix: dict[str, int] = {}
        self.reference_next = {"Portal": 50000, "Shop": 700, "Legacy": 1000}

    def take_id(self, kind: str) -> int:
        self.next_id[kind] += 1
        return self.next_id[kind] - 1

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # -- contacts ------------------------------------------------------------------------

    def contact(self, index: int) -> dict:
        rng, pin = self.rng, _PINNED.get(index, {})
        kind = pin.get("kind") or ("Organization" if self.chance(0.2) else "Household")
        contact_id = self.take_id("contact")
        if kind == "Household":
            individuals, names = self.household(contact_id, pin, rich=bool(pin))
        else:
            individuals, names = self.organization(contact_id, pin)
        created = _EPOCH + timedelta(seconds=rng.randrange(_CREATED_SPAN))
        modified = created + timedelta(
            seconds=1 + rng.randrange(int((_END - created).total_seconds())))
        giving = self.giving(created)
        archived = pin.get("archived", self.chance(0.05))
        return {
            "id": contact_id, "contactType": kind, **names,
            "isArchived": archived,
            "addresses": self.addresses(kind, pin.get("addresses")),
            "contactIndividuals": individuals,
            "customFields": self.custom_fields(giving[0], created),
            "customCollections": [],
            "contactReferences": self.references(pin.get("legacy", False)),
            "tags": self.tags(giving[0], archived),
            "organizationGroups": [],
            "lifeToDateGiving": _money(giving[0]), "yearToDateGiving": _money(giving[1]),
            "lastGiftAmount": _money(giving[2]) if giving[2] else None,
            "lastGiftDate": giving[3],
            "mergedIntoContactId": None,
            "createDateTimeUtc": _stamp(created, rng.randrange(10**7)),
            "createdByUser": rng.choice(T.STAFF),
            "modifiedDateTimeUtc": _stamp(modified, rng.randrange(10**7)),
            "modifiedByUser": rng.choice(T.STAFF),
            "contactViewUrl": VIEW_URL.format(id=contact_id),
            "contactEditUrl": EDIT_URL.format(id=contact_id),
        }

    def household(self, contact_id: int, pin: dict, rich: bool) -> tuple[list[dict], dict]:
        rng = self.rng
        count = pin.get("individuals") or (
            1 if self.chance(0.45) else 2 if self.chance(0.73) else 3)
        head = self.person(contact_id, adult=True, rich=rich)
        people = [head]
        spouse = None
        if count >= 2 and (rich or self.chance(0.85)):
            gender = head["gender"] if self.chance(0.08) else (
                "Female" if head["gender"] == "Male" else "Male")
            last = head["lastName"] if self.chance(0.8) else rng.choice(T.LAST)
            spouse = self.person(contact_id, adult=True, rich=rich, gender=gender, last=last,
                                 may_die=not pin)
            people.append(spouse)
        while len(people) < count:
            people.append(self.person(contact_id, adult=False, rich=False,
                                      last=head["lastName"]))
        for position, person in enumerate(people):
            person["isPrimary"] = position == 0
            person["isSecondary"] = person is spouse and not person["isDeceased"]
        return people, self.household_names(head, spouse)

    def household_names(self, head: dict, spouse: dict | None) -> dict:
        rng = self.rng
        first = head["nickname"] or head["firstName"]
        if spouse is None:
            name, informal = f"{head['firstName']} {head['lastName']}", first
            formal, status = _formal(head), rng.choice(("Single", "Divorced", None, None))
        else:
            informal = f"{first} and {spouse['nickname'] or spouse['firstName']}"
            if spouse["lastName"] == head["lastName"]:
                name = f"{head['firstName']} and {spouse['firstName']} {head['lastName']}"
            else:
                name = (f"{head['firstName']} {head['lastName']} and "
                        f"{spouse['firstName']} {spouse['lastName']}")
            if (head["prefix"], spouse["prefix"]) == ("Mr.", "Mrs.") \
                    and spouse["lastName"] == head["lastName"]:
                formal = f"Mr. and Mrs. {head['firstName']} {head['lastName']}"
            else:
                formal = f"{_formal(head)} and {_formal(spouse)}"
            status = "Widowed" if spouse["isDeceased"] else "Married"
        anniversary = status == "Married" and self.chance(0.4)
        return {
            "name": name, "informalName": informal, "formalContactName": formal,
            "alternateContactName": (f"The {head['lastName']} Family" if self.chance(0.15)
                                     else None),
            "preferredSalutationName": informal, "preferredAddresseeName": formal,
            "description": rng.choice(T.NOTES) if self.chance(0.2) else None,
            "website": None, "maritalStatus": status, "isPrivate": self.chance(0.03),
            "anniversaryMonth": rng.randint(1, 12) if anniversary else None,
            "anniversaryDay": rng.randint(1, 28) if anniversary else None,
            "anniversaryYear": rng.randint(1970, 2020) if anniversary and self.chance(0.7)
            else None,
        }

    def organization(self, contact_id: int, pin: dict) -> tuple[list[dict], dict]:
        rng = self.rng
        pattern, note = rng.choice(T.ORG_KINDS)
        name = pattern.format(place=rng.choice(T.PLACES), last=rng.choice(T.LAST),
                              last2=rng.choice(T.LAST))
        slug = _ascii(name)[:24]
        count = 1 if self.chance(0.55) else 2
        people = [self.person(contact_id, adult=True, rich=bool(pin), work_domain=slug)
                  for _ in range(count)]
        for position, person in enumerate(people):
            person["isPrimary"], person["isSecondary"] = position == 0, position == 1
        initials = "".join(w[0] for w in name.split() if w[0].isupper())
        return people, {
            "name": name, "informalName": None, "formalContactName": name,
            "alternateContactName": initials if self.chance(0.2) else None,
            "preferredSalutationName": people[0]["firstName"] if self.chance(0.5) else "Friends",
            "preferredAddresseeName": name,
            "description": note if note and self.chance(0.5) else None,
            "website": f"https://www.{slug}.example.org" if self.chance(0.7) else None,
            "maritalStatus": None, "isPrivate": False,
            "anniversaryMonth": None, "anniversaryDay": None, "anniversaryYear": None,
        }

    # -- individuals and their contact methods --------------------------------------------

    def person(self, contact_id: int, *, adult: bool, rich: bool, gender: str | None = None,
               last: str | None = None, may_die: bool = False,
               work_domain: str | None = None) -> dict:
        rng = self.rng
        gender = gender or ("Male" if self.chance(0.5) else "Female")
        first = rng.choice(T.MALE if gender == "Male" else T.FEMALE)
        last = last or rng.choice(T.LAST)
        deceased = may_die and self.chance(0.04)
        if not adult:
            prefix = None
        elif self.chance(0.05):
            prefix = "Dr."
        elif self.chance(0.25):
            prefix = None
        else:
            prefix = "Mr." if gender == "Male" else rng.choice(("Mrs.", "Ms."))
        middle = None
        if self.chance(0.35):
            middle = rng.choice(T.MALE if gender == "Male" else T.FEMALE)
            middle = middle[0] + "." if self.chance(0.4) else middle
        years = (1930, 1955) if deceased else (1940, 2000) if adult else (2005, 2019)
        month = day = year = None
        shown = 0.9 if not adult else 0.75 if work_domain is None else 0.1
        if self.chance(shown):
            month = rng.randint(1, 12)
            year = rng.randint(*years)
            day = rng.randint(1, calendar.monthrange(year, month)[1])
            year = year if self.chance(0.8) else None
        died = None
        if deceased and self.chance(0.8):
            died = date(2016, 1, 1) + timedelta(days=rng.randrange(3400))
        person = {
            "id": self.take_id("individual"), "contactId": contact_id,
            "prefix": prefix, "firstName": first, "middleName": middle, "lastName": last,
            "suffix": rng.choice(("Jr.", "Sr.", "II", "III")) if adult and gender == "Male"
            and self.chance(0.04) else None,
            "nickname": (T.NICKNAMES[first] if first in T.NICKNAMES and self.chance(0.3)
                         else None),
            "gender": gender if self.chance(0.97) else None,
            "isPrimary": False, "isSecondary": False,
            "canBePrimary": not deceased, "canBeSecondary": not deceased,
            "birthMonth": month, "birthDay": day, "birthYear": year,
            "birthDate": f"{year:04d}-{month:02d}-{day:02d}" if year else None,
            "isDeceased": deceased, "deceasedDate": died.isoformat() if died else None,
            "contactMethods": [], "customFields": [],
        }
        person["contactMethods"] = self.methods(first, last, adult, rich, work_domain)
        return person

    def methods(self, first: str, last: str, adult: bool, rich: bool,
                work_domain: str | None) -> list[dict]:
        rng = self.rng
        emails: list[tuple[str, str]] = []
        phones: list[str] = []
        if work_domain is not None:
            emails.append(("Work Email", f"{work_domain}.example.org"))
            if rich or self.chance(0.6):
                phones.append("Mobile Phone")
        elif adult:
            if rich or self.chance(0.9):
                emails.append(("Home Email", rng.choice(T.MAIL_DOMAINS)))
            if self.chance(0.3):
                emails.append(("Work Email", f"{rng.choice(T.EMPLOYERS)}.example.com"))
            if rich or self.chance(0.8):
                phones.append("Mobile Phone")
            if self.chance(0.35):
                phones.append("Home Phone")
        elif self.chance(0.4):
            emails.append(("Home Email", rng.choice(T.MAIL_DOMAINS)))
        # One primary per category when the category is present; usually the first listed.
        primary_email = 0 if len(emails) < 2 or self.chance(0.85) else 1
        primary_phone = 0 if len(phones) < 2 or self.chance(0.8) else 1
        area = rng.choice(T.CITIES)[3]
        out = []
        for i, (kind, domain) in enumerate(emails):
            out.append(self.method(kind, self.email(first, last, domain), self.chance(0.85),
                                   i == primary_email))
        for i, kind in enumerate(phones):
            out.append(self.method(kind, f"({area}) 555-01{rng.randrange(100):02d}",
                                   self.chance(0.6), i == primary_phone))
        return out

    def method(self, kind: str, value: str, opted_in: bool, primary: bool) -> dict:
        return {"id": self.take_id("method"), "type": kind, "value": value,
                "isOptedIn": opted_in, "isPrimary": primary, "canBePrimary": True}

    def email(self, first: str, last: str, domain: str) -> str:
        f, l = _ascii(first), _ascii(last)
        local = self.rng.choice((f"{f}.{l}", f"{f}{l}", f"{f[0]}{l}", f"{f}_{l}", f"{f}.{l[0]}"))
        # Numbering from a per-name counter keeps 10,000 contacts fast; the set is the guarantee.
        while True:
            n = self.email_suffix.get(f"{local}@{domain}", 1)
            self.email_suffix[f"{local}@{domain}"] = n + 1
            address = f"{local}@{domain}" if n == 1 else f"{local}{n}@{domain}"
            if address not in self.emails:
                self.emails.add(address)
                return address

    # -- addresses, custom fields, references, giving -----------------------------------

    def addresses(self, kind: str, pinned: int | None) -> list[dict]:
        rng = self.rng
        r = rng.random()
        count = pinned if pinned is not None else 0 if r < 0.05 else 1 if r < 0.8 else \
            2 if r < 0.93 else 3
        home = rng.choice(T.CITIES)
        out = []
        for position in range(count):
            seasonal = position > 0 and kind == "Household" and self.chance(0.5)
            city = rng.choice(T.SUNBELT) if seasonal else home
            if position == 0:
                label = "Home" if kind == "Household" else "Office"
            else:
                label = "Seasonal" if seasonal else rng.choice(("Mailing", "Work")
                                                               if kind == "Household"
                                                               else ("Mailing", "Warehouse"))
            if label == "Mailing" and self.chance(0.5):
                line1, line2 = f"PO Box {rng.randint(10, 9999)}", None
            else:
                line1 = f"{rng.randint(1, 9899)} {rng.choice(T.STREETS)} {rng.choice(T.SUFFIXES)}"
                line2 = None
                if self.chance(0.15):
                    line2 = (f"Suite {rng.randint(1, 9)}00" if kind == "Organization"
                             else f"Apt {rng.randint(1, 30)}{rng.choice('ABCD')}")
            postal = f"{city[2]}{rng.randrange(100):02d}"
            if self.chance(0.1):
                postal += f"-{rng.randrange(10000):04d}"
            out.append({
                "id": self.take_id("address"), "label": label, "address1": line1,
                "address2": line2, "city": city[0], "state": city[1], "postal": postal,
                "country": "United States", "isPrimary": position == 0, "canBePrimary": True,
                "startMonth": 11 if seasonal else None, "startDay": 1 if seasonal else None,
                "endMonth": 4 if seasonal else None, "endDay": 30 if seasonal else None,
            })
        return out

    def custom_fields(self, lifetime_cents: int, created: datetime) -> list[dict]:
        rng, fields = self.rng, []
        if lifetime_cents:
            tier = "Bronze" if lifetime_cents < 100_000 else \
                "Silver" if lifetime_cents < 1_000_000 else "Gold"
            fields.append(("Giving Tier", tier))
        if self.chance(0.3):
            fields.append(("Volunteer Interest", rng.choice(T.VOLUNTEER)))
        if self.chance(0.6):
            fields.append(("Newsletter", rng.choice(T.NEWSLETTER)))
        if self.chance(0.4):
            fields.append(("Member Since", str(created.year - rng.randrange(4))))
        return [{"name": n, "value": v, "displayName": n} for n, v in fields]

    def references(self, legacy: bool) -> list[dict]:
        wanted = {"Portal": self.chance(0.35), "Shop": self.chance(0.15),
                  "Legacy": legacy or self.chance(0.25)}
        out = []
        for source in REFERENCE_SOURCES:
            if not wanted[source]:
                continue
            number = self.reference_next[source]
            self.reference_next[source] = number + self.rng.randint(1, 7)
            ident = {"Portal": str(number), "Shop": f"SH-{number}",
                     "Legacy": f"{number:07d}"}[source]  # legacy ids keep leading zeros
            out.append({"source": source, "id": ident})
        return out

    def tags(self, lifetime_cents: int, archived: bool) -> list[str]:
        # Major Donor and Lapsed follow from giving and archiving; the rest are drawn.
        picked = set(self.rng.sample(T.TAGS[1:-1], self.rng.choice((0, 0, 1, 1, 2))))
        if lifetime_cents >= 1_000_000:
            picked.add("Major Donor")
        if archived:
            picked.add("Lapsed")
        return [t for t in T.TAGS if t in picked]

    def giving(self, created: datetime) -> tuple[int, int, int, str | None]:
        """(lifetime, year to date, last gift) in cents and the last gift's date."""
        rng = self.rng
        if self.chance(0.15):
            return 0, 0, 0, None
        r = rng.random()
        lifetime = 100 * (rng.randrange(2, 200) * 5 if r < 0.55 else
                          rng.randrange(200, 2000) * 5 if r < 0.88 else
                          rng.randrange(400, 6000) * 25)
        if self.chance(0.2):
            lifetime += rng.randrange(1, 100)
        last = min(100 * rng.choice(T.GIFTS), lifetime)
        days = (_END.date() - created.date()).days
        when = created.date() + timedelta(days=rng.randrange(days + 1))
        this_year = min(lifetime, last * rng.randint(1, 3)) if when.year == _END.year else 0
        return lifetime, this_year, last, when.isoformat()


def _formal(person: dict) -> str:
    parts = (person["prefix"], person["firstName"], person["lastName"], person["suffix"])
    return " ".join(p for p in parts if p)


def generate(count: int, seed: int = 1) -> list[dict]:
    """`count` demo contacts, identical for the same (count, seed) on every run and machine."""
    if count < 0:
        raise ValueError(f"count must be >= 0, not {count}")
    generator = _Generator(seed)
    return [generator.contact(index) for index in range(count)]


@click.command()
@click.option("--count", type=click.IntRange(min=0), default=25, show_default=True,
              help="How many contacts to generate.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the random stream; the same seed gives the same contacts.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="-",
              help="File to write (written atomically); standard output by default.")
@click.option("--indent", type=click.IntRange(min=0), default=2, show_default=True,
              help="JSON indentation; 0 writes one compact line.")
def main(count: int, seed: int, output: str, indent: int) -> None:
    """Write {"contacts": [...]} demo data for `planner sandbox --seed FILE` and benchmarks."""
    text = json.dumps({"contacts": generate(count, seed)}, ensure_ascii=False,
                      indent=indent or None, separators=None if indent else (",", ":"))
    with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as stream:
        stream.write(text + "\n")


if __name__ == "__main__":
    main()
