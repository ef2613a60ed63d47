"""The load phase's network half: resolve each desired contact and read its live record."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

from planner.client import Client
from planner.errors import DesiredStateError, NotFoundError


def resolve(client: Client, desired: Any) -> dict:
    """The live record a desired file manages: by id, or through GET /api/Contact/Find."""
    if desired.id is not None:
        try:
            return client.get_contact(desired.id)
        except NotFoundError:
            raise DesiredStateError(desired.file, "contact.id",
                                    f"no contact {desired.id} in the CRM (merged or deleted?)") from None
    find = dict(desired.find)
    if "email" in find:
        found = client.find_contact(email=find["email"])
        what = f"email {find['email']!r}"
    else:
        found = client.find_contact(reference_source=find["referenceSource"],
                                    reference_id=find["referenceId"])
        what = f"reference {find['referenceSource']}:{find['referenceId']}"
    if found is None:
        raise DesiredStateError(desired.file, "contact.find", f"no contact found with {what}")
    if "contactIndividuals" not in found:  # a summary answer: read the whole record
        found = client.get_contact(found["id"])
    return found


def fetch_live(client: Client, desired: Iterable[Any], workers: int = 8,
               bulk: bool = False) -> list[tuple[Any, dict]]:
    """(desired, live record) pairs, one read per contact, `workers` reads in flight.

    Concurrency shortens the wall time behind network latency; it does not change the
    number of requests, which is what the organisation's hourly quota counts. `bulk` reads
    the contacts named by id through the bulk query instead: one request per 1,000.
    """
    desired = list(desired)
    if bulk:
        ids = sorted({d.id for d in desired if d.id is not None})
        found = client.contacts_by_id(ids) if ids else {}
        for d in desired:
            if d.id is not None and d.id not in found:
                raise DesiredStateError(d.file, "contact.id",
                                        f"no contact {d.id} in the CRM (merged or deleted?)")
        by_find = fetch_live(client, [d for d in desired if d.id is None], workers)
        records = dict((id(d), r) for d, r in by_find)
        return [(d, found[d.id] if d.id is not None else records[id(d)]) for d in desired]
    if workers <= 1 or len(desired) <= 1:
        return [(d, resolve(client, d)) for d in desired]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        records = list(pool.map(lambda d: resolve(client, d), desired))
    return list(zip(desired, records))
