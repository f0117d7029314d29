"""The edge stack for identity's end-to-end tests: the launcher's own code, identity as the only service.

Identity's flows need only PostgreSQL, Redis, the migrations, identity, Envoy, and for its mails
(verification, password reset) the notifier and the SMTP sink; starting just those keeps these
tests about identity (a half-built sibling service cannot fail them) and fast.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.edge_rest import create_super_admin
from tests.support.stack import EdgeStack, running_edge_stack

_PARTS = ("postgres", "redis", "migrations", "identity", "mail", "notifier", "edge")
# Every e2e request comes from 127.0.0.1, like one office behind NAT: with the default 20
# failures per address the session's deliberate wrong passwords would lock the address and
# fail unrelated tests. The per-address limit itself is tested in tests/integration and
# tests/grpc; here the address only has to be the right one. A long first delay keeps
# "locked right after the free attempts" true however slow a loaded machine is.
_STACK_ENV = {"GX_IDENTITY__LOCKOUT_IP_LIMIT": "1000", "GX_IDENTITY__LOCKOUT_DELAY_BASE_SECONDS": "5"}
ADMIN_PASSWORD = "E2e root phrase 1234"


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@pytest.fixture(scope="session")
def identity_edge() -> Iterator[EdgeStack]:
    """PostgreSQL, Redis, migrations, identity and Envoy on free ports; all stopped afterwards."""
    with contextlib.ExitStack() as stack:
        # The processes read the environment when spawned; it is restored at once after.
        with _environment(_STACK_ENV):
            running = stack.enter_context(running_edge_stack(parts=_PARTS))
        yield running


@pytest.fixture(scope="session")
def super_admin(identity_edge: EdgeStack) -> dict[str, Any]:
    """A super-admin made by the operator command, logged in through the edge (Login's JSON)."""
    email = create_super_admin(identity_edge.database_url, ADMIN_PASSWORD)
    with httpx.Client(base_url=identity_edge.rest_url, timeout=30) as http:
        login = http.post("/v1/auth:login", json={"email": email, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.text
    result: dict[str, Any] = login.json()
    return result


@pytest.fixture(scope="module")
def client(identity_edge: EdgeStack) -> Iterator[httpx.Client]:
    """An HTTP client on the edge's REST listener."""
    with httpx.Client(base_url=identity_edge.rest_url, timeout=30) as http:
        yield http
