"""The HTTP client against the sandbox: retries, backoff, error shapes, transport safety."""
from __future__ import annotations

import time

import pytest
import requests

from planner.client import Client, RetryPolicy, check_transport
from planner.errors import ApiError, ConfigError, NotFoundError, TransportError


def client_for(sandbox, delays: list | None = None, **retry) -> Client:
    sleeps = delays if delays is not None else []
    return Client(sandbox.url, sandbox.token, retry=RetryPolicy(**retry), sleep=sleeps.append)


def test_a_429_with_retry_after_is_retried_after_that_many_seconds(sandbox):
    sandbox.schedule_faults({"fault": "429", "retry_after": 7})
    delays: list[float] = []
    contact = client_for(sandbox, delays).get_contact(1)
    assert contact["id"] == 1
    assert delays == [7.0]  # honoured Retry-After, not the backoff
    assert [r["status"] for r in sandbox.requests] == [429, 200]


def test_a_429_without_retry_after_waits_until_the_rate_limit_reset(sandbox):
    answer = requests.Response()
    answer.status_code = 429
    answer.headers["X-RateLimit-Reset"] = str(int(time.time()) + 42)
    delay = client_for(sandbox)._delay(0, answer)
    assert 40 <= delay <= 42


def test_the_rate_limit_answers_429_and_the_client_reports_it(make_sandbox):
    sandbox = make_sandbox(rate_limit=1)
    client = client_for(sandbox, max_retries=0)
    client.get_contact(1)
    with pytest.raises(ApiError) as caught:
        client.get_contact(1)
    assert caught.value.status == 429 and client.rate_limit_remaining == 0


def test_a_dropped_connection_is_retried_and_succeeds(sandbox):
    sandbox.schedule_faults("drop")
    delays: list[float] = []
    client = client_for(sandbox, delays, base_delay=0.01)
    assert client.get_contact(1)["id"] == 1
    assert len(delays) == 1 and 0 <= delays[0] <= 0.01
    assert client.exchanges[-1].attempts == 2


def test_503s_are_retried_with_growing_jittered_backoff(sandbox):
    sandbox.schedule_faults("503", "503", "503")
    delays: list[float] = []
    client = client_for(sandbox, delays, base_delay=1.0, max_delay=30)
    assert client.get_contact(1)["id"] == 1
    assert len(delays) == 3
    for attempt, delay in enumerate(delays):
        assert 0 <= delay <= 2 ** attempt  # full jitter under an exponential cap


def test_retries_are_bounded_in_count(sandbox):
    sandbox.schedule_faults(*["503"] * 5)
    client = client_for(sandbox, max_retries=2)
    with pytest.raises(ApiError) as caught:
        client.get_contact(1)
    assert caught.value.status == 503
    assert len(sandbox.requests) == 3


def test_retries_are_bounded_in_total_time(sandbox):
    sandbox.schedule_faults({"fault": "429", "retry_after": 100})
    client = client_for(sandbox, max_total=5)
    with pytest.raises(ApiError) as caught:
        client.get_contact(1)
    assert caught.value.status == 429  # waiting 100 s would break the 5 s budget: give up
    assert len(sandbox.requests) == 1


def test_repeated_drops_become_a_transport_error(sandbox):
    sandbox.schedule_faults("drop", "drop")
    client = client_for(sandbox, max_retries=1)
    with pytest.raises(TransportError) as caught:
        client.get_contact(1)
    assert "2 attempt(s)" in caught.value.one_line()


def test_rate_limit_remaining_is_recorded(make_sandbox):
    sandbox = make_sandbox(rate_limit=10)
    client = client_for(sandbox)
    client.get_contact(1)
    client.get_contact(1)
    assert client.rate_limit_remaining == 8


def test_structured_errors_carry_code_and_field_details(sandbox):
    client = client_for(sandbox)
    contact = client.get_contact(1)
    with pytest.raises(ApiError) as caught:
        client.put_contact(1, {**{k: v for k, v in contact.items() if k != "id"}, "name": " "})
    error = caught.value
    assert (error.status, error.code) == (422, "VALIDATION_FAILED")
    assert error.details and error.details[0].field == "name"
    assert "PUT /api/Contact/1: HTTP 422 VALIDATION_FAILED" in error.one_line()


def test_legacy_errors_map_is_read(sandbox):
    client = client_for(sandbox)
    address_id = client.get_contact(1)["address"]["id"]
    with pytest.raises(ApiError) as caught:
        client.put_address(address_id, {"isPrimary": "yes"})
    error = caught.value
    assert error.status == 400 and error.code is None
    assert [d.field for d in error.details] == ["isPrimary"]


def test_plain_text_401_is_read(sandbox):
    client = Client(sandbox.url, "not-the-token", sleep=lambda s: None)
    with pytest.raises(ApiError) as caught:
        client.get_contact(1)
    assert caught.value.status == 401
    assert caught.value.message == "Authorization has been denied for this request."


def test_404_is_its_own_kind_and_find_returns_none(sandbox):
    client = client_for(sandbox)
    with pytest.raises(NotFoundError):
        client.get_contact(999999)
    assert client.find_contact(email="nobody@example.invalid") is None


def test_bulk_read_by_ids_in_one_request(sandbox):
    client = client_for(sandbox)
    found = client.contacts_by_id([1, 2, 3])
    assert sorted(found) == [1, 2, 3]
    assert len(sandbox.requests) == 1


@pytest.mark.parametrize("url", ["http://api.virtuoussoftware.com", "http://10.0.0.5:8080",
                                 "ftp://localhost", "not a url"])
def test_token_never_travels_in_clear_text_to_other_hosts(url):
    with pytest.raises(ConfigError):
        check_transport(url)


@pytest.mark.parametrize("url", ["https://api.virtuoussoftware.com", "http://127.0.0.1:8765",
                                 "http://localhost:1", "http://[::1]:9"])
def test_tls_or_loopback_is_accepted(url):
    check_transport(url)


def test_the_token_is_not_in_repr_or_errors(sandbox):
    client = client_for(sandbox)
    assert sandbox.token not in repr(client)
    sandbox.schedule_faults("drop", "drop")
    client.retry.max_retries = 1
    with pytest.raises(TransportError) as caught:
        client.get_contact(1)
    assert sandbox.token not in str(caught.value) and sandbox.token not in repr(caught.value)


def test_a_refused_connection_is_not_retried():
    delays: list[float] = []
    client = Client("http://127.0.0.1:1", "t", sleep=delays.append)
    with pytest.raises(TransportError) as caught:
        client.get_contact(1)
    assert delays == [] and "connection refused" in caught.value.one_line()
    assert "1 attempt(s)" in caught.value.one_line()
