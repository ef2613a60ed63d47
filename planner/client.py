"""The only module that speaks HTTP: a small typed client for the CRM+ Contact endpoints."""
from __future__ import annotations

import ipaddress
import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from planner import __version__
from planner.errors import ApiError, ConfigError, FieldDetail, NotFoundError, TransportError

log = logging.getLogger("planner.http")

DEFAULT_API_URL = "https://api.virtuoussoftware.com"
RETRY_STATUSES = frozenset({429, 502, 503, 504, 520})


@dataclass
class RetryPolicy:
    """How hard the client tries again; bounded in count and in total time."""

    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 120.0


@dataclass
class Exchange:
    """One request as the client saw it (never the token)."""

    method: str
    path: str
    status: int | None
    attempts: int
    elapsed: float


def describe_failure(failure: Exception | None) -> str:
    """A short, token-free name for a transport failure, e.g. "ConnectionError (refused)"."""
    name = type(failure).__name__
    text = str(failure)
    cause = re.search(r"Caused by (\w+)", text)
    if "refused" in text.lower():
        return f"{name} (connection refused)"
    if cause:
        return f"{name} ({cause.group(1)})"
    return name


def permanent(failure: Exception) -> bool:
    """Failures another try will not mend: an unknown host, a port nobody listens on.
    (A dropped or reset connection, a timeout, may well pass: those are retried.)"""
    text = str(failure)
    return "NameResolutionError" in text or "refused" in text.lower()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_transport(base_url: str) -> None:
    """Refuse to send a token anywhere but over TLS, or in clear text to this machine."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"API URL {base_url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing plain http:// to {parts.hostname}: the API token would travel unencrypted; "
            "use https:// (plain http is allowed only for a loopback sandbox)"
        )


def parse_error(response: requests.Response, method: str, path: str) -> ApiError:
    """Turn any of the API's three error shapes into one ApiError."""
    status = response.status_code
    kind = NotFoundError if status == 404 else ApiError
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().splitlines()[0][:300] if response.text.strip() else response.reason
        return kind(status, text or "(empty answer)", method=method, path=path)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):  # structured
        err = body["error"]
        details = [
            FieldDetail(d.get("field"), d.get("code"), str(d.get("message", "")))
            for d in err.get("details") or [] if isinstance(d, dict)
        ]
        return kind(status, str(err.get("message") or response.reason), code=err.get("code"),
                    details=details, method=method, path=path)
    if isinstance(body, dict) and ("message" in body or "errors" in body):  # legacy
        details = []
        errors = body.get("errors")
        if isinstance(errors, dict):
            for fld, msgs in errors.items():
                for msg in msgs if isinstance(msgs, list) else [msgs]:
                    details.append(FieldDetail(fld, None, str(msg)))
        return kind(status, str(body.get("message") or response.reason), details=details,
                    method=method, path=path)
    return kind(status, json.dumps(body)[:300], method=method, path=path)


class Client:
    """A CRM+ API client: timeouts, bounded retries with backoff, typed errors, no token leaks."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        check_transport(base_url)
        if not token:
            raise ConfigError("no API token: set VIRTUOUS_TOKEN or pass --token-file")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=16)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.verify = True  # TLS verification is never turned off
        self.session.headers.update({
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": f"planner/{__version__}",
        })
        self.rate_limit_remaining: int | None = None
        self._quota_reset = 0.0
        self._quota_lock = threading.Lock()
        self.exchanges: list[Exchange] = []

    def __repr__(self) -> str:  # never show the session headers
        return f"Client({self.base_url!r})"

    def _note_quota(self, headers) -> None:
        """Remember the quota left. Answers to concurrent requests arrive in any order, so
        within one rate-limit window the lowest figure is the true one."""
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is None or not remaining.isdigit():
            return
        try:
            reset = float(headers.get("X-RateLimit-Reset", "0"))
        except ValueError:
            reset = 0.0
        with self._quota_lock:
            if self.rate_limit_remaining is None or reset > self._quota_reset:
                self._quota_reset, self.rate_limit_remaining = reset, int(remaining)
            elif reset == self._quota_reset:
                self.rate_limit_remaining = min(self.rate_limit_remaining, int(remaining))

    # -- transport ---------------------------------------------------------------------------
    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None and response.status_code == 429:
            retry_after = response.headers.get("Retry-After")
            if retry_after is not None:
                try:
                    return max(0.0, float(retry_after))
                except ValueError:
                    pass
            reset = response.headers.get("X-RateLimit-Reset")
            if reset is not None:
                try:
                    return max(0.0, float(reset) - time.time())
                except ValueError:
                    pass
        # Full jitter: spreads the retries of concurrent clients sharing one quota.
        cap = min(self.retry.max_delay, self.retry.base_delay * 2 ** attempt)
        return self._rng.uniform(0, cap)

    def request(self, method: str, path: str, *, body: Any = None,
                params: dict | None = None) -> Any:
        """Send one request, retrying what is safe to retry; return the parsed JSON answer.

        Every method used here is idempotent (GET, full-record PUT, archive endpoints, the
        read-only bulk query), so a dropped connection may be retried without double effects.
        """
        url = self.base_url + path
        started = time.monotonic()
        attempt = 0
        while True:
            response = None
            failure: Exception | None = None
            try:
                response = self.session.request(
                    method, url, json=body, params=params, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = exc
            if response is not None:
                self._note_quota(response.headers)
            retryable = (response.status_code in RETRY_STATUSES if failure is None
                         else not permanent(failure))
            if retryable and attempt < self.retry.max_retries:
                delay = self._delay(attempt, response)
                if time.monotonic() - started + delay <= self.retry.max_total:
                    log.warning("%s %s: %s; retrying in %.1f s (attempt %d of %d)", method, path,
                                describe_failure(failure) if failure else f"HTTP {response.status_code}",
                                delay, attempt + 2, self.retry.max_retries + 1)
                    attempt += 1
                    self._sleep(delay)
                    continue
            elapsed = time.monotonic() - started
            status = response.status_code if response is not None else None
            self.exchanges.append(Exchange(method, path, status, attempt + 1, elapsed))
            log.info("%s %s -> %s in %.0f ms (%d attempt%s, %s requests left this hour)",
                     method, path, status, elapsed * 1000, attempt + 1, "s" * (attempt > 0),
                     self.rate_limit_remaining if self.rate_limit_remaining is not None else "?")
            if body is not None:
                log.debug("%s %s request body: %s", method, path, json.dumps(body)[:2000])
            if response is None:
                raise TransportError(
                    None, f"cannot reach {urlsplit(self.base_url).netloc}: "
                          f"{describe_failure(failure)} after {attempt + 1} attempt(s)",
                    method=method, path=path)
            if response.status_code >= 400:
                raise parse_error(response, method, path)
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ApiError(response.status_code, "answer is not JSON",
                               method=method, path=path) from None

    # -- endpoints ---------------------------------------------------------------------------
    def get_contact(self, contact_id: int) -> dict:
        return self.request("GET", f"/api/Contact/{int(contact_id)}")

    def put_contact(self, contact_id: int, body: dict) -> dict:
        return self.request("PUT", f"/api/Contact/{int(contact_id)}", body=body)

    def find_contact(self, *, email: str | None = None, reference_source: str | None = None,
                     reference_id: str | None = None) -> dict | None:
        """The contact matching an email or an external reference, or None."""
        params = ({"email": email} if email is not None
                  else {"referenceSource": reference_source, "referenceId": reference_id})
        try:
            return self.request("GET", "/api/Contact/Find", params=params)
        except NotFoundError:
            return None

    def archive(self, contact_id: int) -> Any:
        return self.request("PUT", f"/api/Contact/Archive/{int(contact_id)}")

    def unarchive(self, contact_id: int) -> Any:
        return self.request("PUT", f"/api/Contact/Unarchive/{int(contact_id)}")

    def get_individual(self, individual_id: int) -> dict:
        return self.request("GET", f"/api/ContactIndividual/{int(individual_id)}")

    def put_individual(self, individual_id: int, body: dict) -> dict:
        return self.request("PUT", f"/api/ContactIndividual/{int(individual_id)}", body=body)

    def get_address(self, address_id: int) -> dict:
        return self.request("GET", f"/api/ContactAddress/{int(address_id)}")

    def put_address(self, address_id: int, body: dict) -> dict:
        return self.request("PUT", f"/api/ContactAddress/{int(address_id)}", body=body)

    def addresses_of(self, contact_id: int) -> list[dict]:
        return self.request("GET", f"/api/ContactAddress/ByContact/{int(contact_id)}")

    def query_contacts(self, groups: list[dict], *, skip: int = 0, take: int = 1000) -> dict:
        return self.request("POST", "/api/Contact/Query/FullContact",
                            params={"skip": skip, "take": take}, body={"groups": groups})

    def contacts_by_id(self, contact_ids: list[int], page: int = 1000) -> dict[int, dict]:
        """Full contacts for many ids through the bulk read: one request per `page` ids."""
        found: dict[int, dict] = {}
        for start in range(0, len(contact_ids), page):
            chunk = contact_ids[start:start + page]
            groups = [{"conditions": [{"parameter": "Contact Id", "operator": "Is",
                                       "value": str(cid)}]} for cid in chunk]
            answer = self.query_contacts(groups, skip=0, take=len(chunk))
            for contact in answer.get("list", []):
                found[int(contact["id"])] = contact
        return found
