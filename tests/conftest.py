"""Shared fixtures: in-process sandboxes seeded with tests/sandbox_seed.py."""
from __future__ import annotations

from typing import Callable

import pytest
import requests

from planner.sandbox.server import SandboxConfig, SandboxServer
from tests.sandbox_seed import seed_contacts


@pytest.fixture
def make_sandbox() -> Callable[..., SandboxServer]:
    """A factory: make_sandbox(contacts=None, **SandboxConfig fields) -> a started sandbox.

    contacts=None seeds the three hand-made contacts; every sandbox stops at teardown.
    """
    servers: list[SandboxServer] = []

    def make(contacts: list[dict] | None = None, **config: object) -> SandboxServer:
        server = SandboxServer(SandboxConfig(**config),  # type: ignore[arg-type]
                               contacts=seed_contacts() if contacts is None else contacts)
        servers.append(server.start())
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A started patch-semantics sandbox with the three hand-made contacts."""
    return make_sandbox()


@pytest.fixture(params=["replace", "patch"])
def put_semantics(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both PUT semantics."""
    return request.param


@pytest.fixture
def api() -> Callable[[SandboxServer], requests.Session]:
    """api(server) -> a requests.Session carrying that sandbox's Bearer token."""
    sessions: list[requests.Session] = []

    def session_for(server: SandboxServer) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {server.token}"
        sessions.append(session)
        return session

    yield session_for
    for session in sessions:
        session.close()
