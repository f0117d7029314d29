"""Licensing killed behind the real Envoy: keyed calls fail closed (503), unkeyed calls are still served, and after a
restart everything recovers with no usage lost for the requests that were served.

Served requests are counted by the key check itself, in Redis, at the moment it lets them
through; a SIGKILL of licensing therefore loses none of them: the restarted process flushes
what the dead one had not written yet.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import httpx
import pytest

from devstack import processes
from devstack import stack as devstack
from tests.e2e.licensing.edge_partner import (
    Partner,
    create_admin,
    keyed,
    onboard,
    partner_edge_stack,
    reason,
    usage,
    wait_for,
)
from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[EdgeStack]:
    # A long flush interval, so the counts of the first requests are still only in Redis when
    # licensing is killed.
    with partner_edge_stack({"GX_LICENSING__USAGE_FLUSH_SECONDS": "10"}) as running:
        yield running


@pytest.fixture(scope="module")
def partner(stack: EdgeStack, http: httpx.Client) -> Partner:
    return onboard(http, create_admin(stack, http), tier="LICENSE_TIER_BASIC")


def _kill_licensing(stack: EdgeStack) -> None:
    record = processes.read_pid_file(stack.config.pid_path("licensing"))
    assert record is not None and processes.record_matches(record)
    os.kill(record.pid, signal.SIGKILL)
    assert wait_for(lambda: not processes.is_alive(record.pid))


def test_licensing_down_fails_keyed_calls_closed_and_loses_no_usage(
    stack: EdgeStack, http: httpx.Client, partner: Partner
) -> None:
    before = 5
    for _ in range(before):
        assert http.get("/v1/partners/me", headers=keyed(partner.secret)).status_code == 200

    _kill_licensing(stack)

    # Keyed: 503 with the JSON error shape, never let through for free.
    down = http.get("/v1/partners/me", headers=keyed(partner.secret))
    assert down.status_code == 503, down.text
    assert down.json()["code"] == 14 and reason(down) == "LICENSING_UNAVAILABLE"
    # A bad key cannot slip through either.
    assert http.get("/v1/partners/me", headers=keyed("gx_live_nope")).status_code == 503
    # Unkeyed: identity keeps serving (sign-in, the key set) while licensing is down.
    jwks = http.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    login = http.post("/v1/auth:login", json={"email": partner.email, "password": "Partner edge e2e 2026!"})
    assert login.status_code == 200, login.text

    devstack.up(stack.config, only=("licensing",))
    assert wait_for(lambda: http.get("/v1/partners/me", headers=keyed(partner.secret)).status_code == 200, 30)
    after = 3
    for _ in range(after - 1):
        assert http.get("/v1/partners/me", headers=keyed(partner.secret)).status_code == 200

    # Every served request is in the usage: the ones decided before the kill (still in Redis
    # then) and the ones after; the 503s were never served and are not counted.
    assert wait_for(lambda: int(usage(http, partner)["requestCount"]) == before + after, 30), usage(
        http, partner
    )
    assert int(usage(http, partner)["throttledCount"]) == 0
