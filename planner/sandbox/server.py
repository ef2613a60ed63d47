"""A local CRM+ sandbox server, in a background thread (tests) or in the foreground (command).

The Flask app is served by planner.sandbox.wsgi rather than werkzeug's development server,
which closes the connection after every answer. With keep-alive, a loop of requests over one
session costs the server ~0.4 ms each (0.2 ms of it in the app), not a new connection each.
"""
from __future__ import annotations

import copy
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from planner.sandbox.app import Faults, Quota, create_app
from planner.sandbox.store import Store
from planner.sandbox.wsgi import WSGIServer

PUT_SEMANTICS = ("patch", "replace")
LOG_LIMIT = 100_000  # requests kept in memory; older ones are dropped first


@dataclass
class SandboxConfig:
    """How one sandbox behaves. put_semantics, string_typed and latency are read per request
    (a test may switch them on a running server); the others are read at construction."""

    put_semantics: str = "patch"  # or "replace"
    string_typed: bool = False
    rate_limit: int = 5000
    rate_window: float = 3600.0
    latency: float = 0.0
    fault_rate: float = 0.0
    fault_seed: int = 0
    token: str | None = None
    state_file: str | None = None


class SandboxServer:
    """One sandbox: a store, its HTTP server and its test-facing controls."""

    def __init__(self, config: SandboxConfig | None = None, contacts: list[dict] | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SandboxConfig()
        if self.config.put_semantics not in PUT_SEMANTICS:
            raise ValueError(f"put_semantics must be one of {PUT_SEMANTICS}, "
                             f"not {self.config.put_semantics!r}")
        self.token = self.config.token or secrets.token_urlsafe(32)
        self.store = Store(contacts or [], self.config.state_file)  # the store copies what it keeps
        self.quota = Quota(self.config.rate_limit, self.config.rate_window)
        self.faults = Faults(self.config.fault_rate, self.config.fault_seed)
        self.on_request = None  # optional callable(entry) for each logged request (the command's access log)
        self._log: list[dict] = []
        self._log_lock = threading.Lock()
        self.app = create_app(self)
        self._http = WSGIServer(host, port, self.app)
        self._thread: threading.Thread | None = None
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self._http.server_port}"

    @property
    def port(self) -> int:
        return self._http.server_port

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted so far: with keep-alive, one per client session."""
        return self._http.connections_accepted

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self so `SandboxServer(...).start()` reads well."""
        # a short poll interval makes stop() quick: test suites start and stop many sandboxes
        self._thread = threading.Thread(target=self._http.serve_forever, name=f"sandbox:{self.port}",
                                        kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() or KeyboardInterrupt."""
        try:
            self._http.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        self._http.close_connections()  # idle keep-alive connections would otherwise linger
        self._http.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- observability and test controls -------------------------------------------------------
    def log_request(self, entry: dict) -> None:
        with self._log_lock:
            self._log.append(entry)
            del self._log[:-LOG_LIMIT]
        if self.on_request is not None:
            self.on_request(entry)

    @property
    def requests(self) -> list[dict]:
        """The /api requests answered so far (method, path, query, body, status, fault), oldest first."""
        with self._log_lock:
            return copy.deepcopy(self._log)

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def contact(self, contact_id: int) -> dict:
        """The raw stored record (all addresses under `addresses`), a deep copy."""
        return self.store.raw(contact_id)

    def writer_edit(self, contact_id: int, writer: str = "another writer", **changes: Any) -> dict:
        """Change a record as another writer would, like POST /_admin/contacts/{id}.

        `set=`, `individuals=`, `addresses=`, `methods=` are the admin route's sections; any
        other keyword sets that top-level field: `writer_edit(7, description="x")`.
        """
        sections = {k: changes.pop(k) for k in ("set", "individuals", "addresses", "methods")
                    if k in changes}
        if changes:
            sections["set"] = {**sections.get("set", {}), **changes}
        return self.store.admin_edit(contact_id, writer, sections)

    def schedule_faults(self, *faults: str | dict) -> None:
        """Queue the fates of the next /api answers, like POST /_admin/faults."""
        self.faults.schedule(list(faults))
