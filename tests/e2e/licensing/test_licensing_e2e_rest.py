"""A partner's onboarding over plain HTTP through the real Envoy edge, with identity and licensing as processes.

The processes are started by the same code as `gx dev up`, so this also proves the launcher's
service keys: licensing's approval calls identity as a service. The journey: a user applies,
an admin approves (identity grants ROLE_PARTNER), the partner signs in again and reads
`partners/me`, the admin issues a licence, the partner creates and rotates a key and reads
its usage; bad input answers 400 with field violations; approving twice answers 400 with a reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy

from tests.support.edge_rest import create_super_admin, login
from tests.support.stack import EdgeStack, running_edge_stack

pytestmark = pytest.mark.e2e

_PARTS = ("postgres", "redis", "migrations", "identity", "licensing", "edge")
PASSWORD = "Partner e2e pass 2026!"


@pytest.fixture(scope="module")
def stack() -> Iterator[EdgeStack]:
    """PostgreSQL, Redis, migrations, identity, licensing and Envoy on free ports."""
    with running_edge_stack(parts=_PARTS) as running:
        yield running


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _login(http: httpx.Client, email: str, password: str = PASSWORD) -> str:
    return login(http, email, password)


@pytest.fixture(scope="module")
def admin(stack: EdgeStack, http: httpx.Client) -> str:
    return _login(http, create_super_admin(stack.database_url, PASSWORD))


def _reason(response: httpx.Response) -> str:
    for detail in response.json().get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    return ""


def _fields(response: httpx.Response) -> set[str]:
    for detail in response.json().get("details", []):
        if detail.get("@type", "").endswith("google.rpc.BadRequest"):
            return {v["field"] for v in detail.get("fieldViolations", [])}
    return set()


def test_a_partner_is_onboarded_through_the_edge(stack: EdgeStack, http: httpx.Client, admin: str) -> None:
    email = f"dev-{uuid.uuid4().hex[:10]}@fintech.example"
    registered = http.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD, "displayName": "Dev"}
    )
    assert registered.status_code == 200, registered.text
    user_id = registered.json()["user"]["userId"]
    applicant = _login(http, email)

    applied = http.post(
        "/v1/partners",
        json={"name": "Fintech Ltd", "email": email, "contactPerson": "Dev", "countryCode": "LK"},
        headers={**_auth(applicant), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert applied.status_code == 200, applied.text
    partner = applied.json()["partner"]
    assert (partner["state"], partner["ownerUserId"]) == ("PARTNER_STATE_PENDING", user_id)
    pid = partner["partnerId"]

    queue = http.get("/v1/partners", params={"state": "PARTNER_STATE_PENDING"}, headers=_auth(admin))
    assert queue.status_code == 200 and pid in [p["partnerId"] for p in queue.json()["partners"]]

    approved = http.post(f"/v1/partners/{pid}:approve", json={}, headers=_auth(admin))
    assert approved.status_code == 200, approved.text
    assert approved.json()["partner"]["state"] == "PARTNER_STATE_ACTIVE"
    twice = http.post(f"/v1/partners/{pid}:approve", json={}, headers=_auth(admin))
    assert (twice.status_code, _reason(twice)) == (400, "PARTNER_NOT_PENDING")

    # Identity granted the role: a fresh token carries it and `me` is the partner.
    partner_token = _login(http, email)
    me = http.get("/v1/partners/me", headers=_auth(partner_token))
    assert me.status_code == 200, me.text
    assert me.json()["partner"]["partnerId"] == pid

    past = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    bad = http.post(
        f"/v1/partners/{pid}/licenses",
        json={"tier": "LICENSE_TIER_BASIC", "expireTime": past},
        headers=_auth(admin),
    )
    assert (bad.status_code, _fields(bad)) == (400, {"expire_time"})
    unknown = http.post(
        f"/v1/partners/{pid}/licenses",
        json={"tier": "LICENSE_TIER_GOLD", "expireTime": past},
        headers=_auth(admin),
    )
    assert unknown.status_code == 400
    expiry = (datetime.now(UTC) + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    issued = http.post(
        f"/v1/partners/{pid}/licenses",
        json={"tier": "LICENSE_TIER_BASIC", "expireTime": expiry},
        headers=_auth(admin),
    )
    assert issued.status_code == 200, issued.text
    lic: dict[str, Any] = issued.json()["license"]
    assert lic["quotaPerMinute"] == 600
    lid = lic["licenseId"]

    created = http.post(
        f"/v1/partners/me/licenses/{lid}/apiKeys",
        json={"environment": "API_KEY_ENVIRONMENT_TEST", "displayName": "server"},
        headers=_auth(partner_token),
    )
    assert created.status_code == 200, created.text
    secret = created.json()["secret"]
    key_id = created.json()["apiKey"]["keyId"]
    assert secret.startswith("gx_test_")

    long_grace = http.post(
        f"/v1/partners/me/licenses/{lid}/apiKeys/{key_id}:rotate",
        json={"gracePeriod": "700000s"},
        headers=_auth(partner_token),
    )
    assert (long_grace.status_code, _fields(long_grace)) == (400, {"grace_period"})
    rotated = http.post(
        f"/v1/partners/me/licenses/{lid}/apiKeys/{key_id}:rotate",
        json={"gracePeriod": "3600s"},
        headers=_auth(partner_token),
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["oldApiKey"]["state"] == "API_KEY_STATE_ROTATING"

    listed = http.get(f"/v1/partners/me/licenses/{lid}/apiKeys", headers=_auth(partner_token))
    assert sorted(k["state"] for k in listed.json()["apiKeys"]) == [
        "API_KEY_STATE_ACTIVE",
        "API_KEY_STATE_ROTATING",
    ]

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    usage = http.get(
        f"/v1/partners/me/licenses/{lid}/usage",
        params={
            "startTime": start.isoformat().replace("+00:00", "Z"),
            "endTime": (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        },
        headers=_auth(partner_token),
    )
    assert usage.status_code == 200, usage.text
    assert len(usage.json()["usage"]["buckets"]) == 2

    # A pg_dump-equivalent look at the database: the secrets are nowhere, their hashes are.
    engine = sqlalchemy.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT k::text FROM licensing.api_keys k")).scalars().all()
            records = (
                conn.execute(
                    sqlalchemy.text("SELECT encode(response, 'escape') FROM platform.idempotency_records")
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert len(rows) == 2
    assert not any(secret in text for text in [*rows, *records])
    assert not any(rotated.json()["secret"] in text for text in [*rows, *records])
