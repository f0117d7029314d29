"""Helpers for the partner-edge e2e tests: a stack with small quotas, an admin, an onboarded partner with a key."""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support import edge_rest
from tests.support.edge_rest import bearer
from tests.support.stack import EdgeStack, running_edge_stack

PARTS = ("postgres", "redis", "migrations", "identity", "licensing", "edge")
PASSWORD = "Partner edge e2e 2026!"
# Small quotas so a burst past one takes a dozen requests; the other tiers keep their defaults.
FREE_QUOTA = 10
QUOTAS = {"FREE": FREE_QUOTA, "BASIC": 600, "PREMIUM": 6_000, "ENTERPRISE": 60_000}


@contextlib.contextmanager
def partner_edge_stack(extra_env: dict[str, str] | None = None) -> Iterator[EdgeStack]:
    """Identity, licensing and Envoy with the test quotas and a 1 s usage flush (env of the started processes)."""
    env = {
        "GX_LICENSING__TIER_QUOTAS": json.dumps(QUOTAS),
        "GX_LICENSING__USAGE_FLUSH_SECONDS": "1",
        **(extra_env or {}),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with running_edge_stack(parts=PARTS) as stack:
            yield stack
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def keyed(secret: str) -> dict[str, str]:
    return {"x-api-key": secret}


def reason(response: httpx.Response) -> str:
    for detail in response.json().get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    return ""


def login(http: httpx.Client, email: str) -> str:
    """A partner-suite user's access token (they all have PASSWORD)."""
    return edge_rest.login(http, email, PASSWORD)


def create_admin(stack: EdgeStack, http: httpx.Client) -> str:
    """A super-admin made with the CLI; returns their access token."""
    return login(http, edge_rest.create_super_admin(stack.database_url, PASSWORD))


@dataclass
class Partner:
    """An approved partner with a licence and one key."""

    email: str
    user_id: str
    partner_id: str
    license_id: str
    key_id: str
    secret: str
    owner_token: str


def onboard(http: httpx.Client, admin: str, *, tier: str = "LICENSE_TIER_FREE") -> Partner:
    """Register, apply, approve, issue a licence and create a key, all through the edge."""
    email = f"dev-{uuid.uuid4().hex[:10]}@fintech.example"
    registered = http.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD, "displayName": "Dev"}
    )
    assert registered.status_code == 200, registered.text
    user_id = registered.json()["user"]["userId"]
    applied = http.post(
        "/v1/partners",
        json={"name": f"Fintech {email[:14]}", "email": email, "contactPerson": "Dev", "countryCode": "LK"},
        headers=bearer(login(http, email)),
    )
    assert applied.status_code == 200, applied.text
    pid = applied.json()["partner"]["partnerId"]
    approved = http.post(f"/v1/partners/{pid}:approve", json={}, headers=bearer(admin))
    assert approved.status_code == 200, approved.text
    owner = login(http, email)  # a fresh token carries ROLE_PARTNER
    expiry = (datetime.now(UTC) + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    issued = http.post(
        f"/v1/partners/{pid}/licenses", json={"tier": tier, "expireTime": expiry}, headers=bearer(admin)
    )
    assert issued.status_code == 200, issued.text
    lid = issued.json()["license"]["licenseId"]
    created = http.post(
        f"/v1/partners/me/licenses/{lid}/apiKeys",
        json={"environment": "API_KEY_ENVIRONMENT_LIVE", "displayName": "server"},
        headers=bearer(owner),
    )
    assert created.status_code == 200, created.text
    body = created.json()
    return Partner(email, user_id, pid, lid, body["apiKey"]["keyId"], body["secret"], owner)


def usage(http: httpx.Client, partner: Partner) -> dict[str, Any]:
    """The licence's usage over the current and the next hour (read with the owner's token)."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    response = http.get(
        f"/v1/partners/me/licenses/{partner.license_id}/usage",
        params={
            "startTime": start.isoformat().replace("+00:00", "Z"),
            "endTime": (start + timedelta(hours=3)).isoformat().replace("+00:00", "Z"),
        },
        headers=bearer(partner.owner_token),
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["usage"]
    return result


def wait_for(check: Callable[[], bool], seconds: float = 20.0, step: float = 0.25) -> bool:
    """Poll until `check()` holds or `seconds` pass; returns the last result (no timing is asserted)."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
