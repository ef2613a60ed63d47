"""Recorded HTTP interactions, replayed with vcrpy: the client parses real answers of the
sandbox without a server. Cassettes are recorded against the sandbox with
PLANNER_RECORD_CASSETTES=1 (the Authorization header is filtered out before anything is
written) and replayed with record mode `none`, so CI never records.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import vcr

from planner.client import Client, RetryPolicy
from planner.errors import ApiError, NotFoundError
from planner.sandbox.server import SandboxConfig, SandboxServer
from tests.sandbox_seed import seed_contacts

HERE = Path(__file__).parent
CASSETTES = HERE / "cassettes"
RECORD = bool(os.environ.get("PLANNER_RECORD_CASSETTES"))
# A token nobody could mistake for another: the leak test below searches for it.
RECORDING_TOKEN = "sandbox-recording-token-7f3a9c2e1d"

recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="all" if RECORD else "none",
    match_on=["method", "path", "query", "body"],  # not host/port: the sandbox's port varies
    filter_headers=[("authorization", None)],
    decode_compressed_response=True,
)


@pytest.fixture
def client():
    """A client on a recording sandbox, or on a dead address when replaying."""
    if RECORD:
        server = SandboxServer(SandboxConfig(token=RECORDING_TOKEN), contacts=seed_contacts())
        server.start()
        yield Client(server.url, RECORDING_TOKEN, retry=RetryPolicy(max_retries=0))
        server.stop()
    else:
        yield Client("http://127.0.0.1:9", "replay-token", retry=RetryPolicy(max_retries=0))


def test_replayed_get_and_put(client):
    with recorder.use_cassette("get_and_put_contact.yaml"):
        contact = client.get_contact(1)
        assert contact["id"] == 1 and contact["contactIndividuals"]
        body = {k: v for k, v in contact.items() if k != "contactIndividuals"}
        body["description"] = "recorded"
        answer = client.put_contact(1, {**body, "contactIndividuals": contact["contactIndividuals"]})
        assert answer["description"] == "recorded"


def test_replayed_errors(client):
    with recorder.use_cassette("errors.yaml"):
        with pytest.raises(NotFoundError):
            client.get_contact(424242)
        with pytest.raises(ApiError) as caught:
            client.put_contact(1, {"name": ""})
        assert caught.value.status == 422 and caught.value.details


def test_replayed_bulk_query(client):
    with recorder.use_cassette("bulk_query.yaml"):
        found = client.contacts_by_id([1, 3])
        assert sorted(found) == [1, 3]


def test_no_cassette_or_test_artefact_holds_a_token():
    """Every committed test artefact is free of tokens and Authorization values."""
    suspects = []
    for path in HERE.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".py":
            continue  # test code builds headers from the sandbox's token at run time
        text = path.read_text("utf-8", errors="replace")
        if RECORDING_TOKEN in text or "Bearer " in text:
            suspects.append(str(path.relative_to(HERE)))
    assert suspects == [], suspects
    cassettes = list(CASSETTES.glob("*.yaml"))
    assert len(cassettes) >= 3
    for cassette in cassettes:
        assert "uthorization" not in cassette.read_text()
