"""A partner's whole journey through the real Envoy edge: the key alone as the caller, quota, usage, rotation, revocation, suspension.

Envoy asks licensing (ext_authz over gRPC) about every request that carries `X-API-Key`; with no
bearer token licensing has identity mint a token for the partner principal, which the edge puts on
the request and every service verifies like any other JWT. The quotas are small here (FREE = 10
per minute) so a burst past one is a dozen requests; usage comes back through GetUsage within
seconds. The last test: anonymous sign-ups from one address are throttled (register = 4 per minute).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.licensing.edge_partner import (
    FREE_QUOTA,
    PASSWORD,
    Partner,
    bearer,
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

REGISTER_LIMIT = 4


@pytest.fixture(scope="module")
def stack() -> Iterator[EdgeStack]:
    with partner_edge_stack({"GX_EDGE_ADDRESS_LIMITS": f"register={REGISTER_LIMIT}"}) as running:
        yield running


@pytest.fixture(scope="module")
def admin(stack: EdgeStack, http: httpx.Client) -> str:
    return create_admin(stack, http)


@pytest.fixture(scope="module")
def partner(http: httpx.Client, admin: str) -> Partner:
    return onboard(http, admin)


def _rate_headers(response: httpx.Response) -> tuple[int, int, int]:
    return (
        int(response.headers["ratelimit-limit"]),
        int(response.headers["ratelimit-remaining"]),
        int(response.headers["ratelimit-reset"]),
    )


def test_a_partner_journey_through_the_edge(http: httpx.Client, admin: str, partner: Partner) -> None:
    served = 0
    errors = 0

    # The key alone: the partner is the caller, `me` is the key's partner.
    me = http.get("/v1/partners/me", headers=keyed(partner.secret))
    served += 1
    assert me.status_code == 200, me.text
    assert me.json()["partner"]["partnerId"] == partner.partner_id
    limit, remaining, reset = _rate_headers(me)
    assert (limit, remaining) == (FREE_QUOTA, FREE_QUOTA - 1) and reset >= 1
    # The partner principal is not the owner (nor any user): a user's own resource is refused.
    user_me = http.get("/v1/users/me", headers=keyed(partner.secret))
    served += 1
    errors += 1
    assert user_me.status_code in (400, 403, 404), user_me.text
    # A licence it does not have: a served call that ended in an error (metered as one).
    missing = http.get(f"/v1/partners/me/licenses/{uuid.uuid4()}", headers=keyed(partner.secret))
    served += 1
    errors += 1
    assert missing.status_code == 404, missing.text
    # Key and bearer token: the user stays the caller, the licence is charged.
    as_user = http.get("/v1/users/me", headers={**keyed(partner.secret), **bearer(partner.owner_token)})
    served += 1
    assert as_user.status_code == 200, as_user.text
    assert as_user.json()["user"]["userId"] == partner.user_id
    assert _rate_headers(as_user)[1] == FREE_QUOTA - 4

    # Refused keys: malformed (before any lookup), unknown, both 401 with the JSON error shape.
    malformed = http.get("/v1/partners/me", headers=keyed("gx_live_nope"))
    assert (malformed.status_code, reason(malformed)) == (401, "API_KEY_INVALID")
    assert malformed.json()["code"] == 16
    forged = partner.secret[:-3] + ("aaa" if not partner.secret.endswith("aaa") else "bbb")
    assert http.get("/v1/partners/me", headers=keyed(forged)).status_code == 401

    # Burst past the quota: 429 with Retry-After and RateLimit headers, nothing more served.
    throttled = 0
    first_refusal: httpx.Response | None = None
    for _ in range(FREE_QUOTA + 3):
        response = http.get("/v1/partners/me", headers=keyed(partner.secret))
        if response.status_code == 200:
            served += 1
            assert "ratelimit-remaining" in response.headers
        else:
            assert response.status_code == 429, response.text
            throttled += 1
            first_refusal = first_refusal or response
    # The whole minute's quota went through before the first refusal (a slow machine may
    # have earned one more request back meanwhile: GCRA refills one every 60/quota s).
    assert served >= FREE_QUOTA and throttled >= 1, (served, throttled)
    assert first_refusal is not None
    assert reason(first_refusal) == "QUOTA_EXCEEDED"
    assert int(first_refusal.headers["retry-after"]) >= 1
    assert _rate_headers(first_refusal)[:2] == (FREE_QUOTA, 0)

    # Usage equals what was sent: the decisions count requests and throttles exactly, the
    # access log adds errors and bytes; all visible within seconds.
    def counted() -> bool:
        u = usage(http, partner)
        return (int(u["requestCount"]), int(u["throttledCount"]), int(u["errorCount"])) == (
            served,
            throttled,
            errors,
        )

    assert wait_for(counted), usage(http, partner)
    assert int(usage(http, partner)["byteCount"]) > 0

    # A tier change reaches the edge within seconds: the new quota is in force.
    upgraded = http.patch(
        f"/v1/partners/{partner.partner_id}/licenses/{partner.license_id}",
        params={"updateMask": "tier"},
        json={"tier": "LICENSE_TIER_BASIC", "expireTime": "2099-01-01T00:00:00Z"},
        headers=bearer(admin),
    )
    assert upgraded.status_code == 200, upgraded.text
    assert wait_for(
        lambda: (
            http.get("/v1/partners/me", headers=keyed(partner.secret)).headers.get("ratelimit-limit") == "600"
        )
    )

    # Rotation: both keys work during the grace period, only the new one after it.
    rotated = http.post(
        f"/v1/partners/me/licenses/{partner.license_id}/apiKeys/{partner.key_id}:rotate",
        json={"gracePeriod": "3s"},
        headers=keyed(partner.secret),  # the partner principal may manage its own keys
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    new_key_id = rotated.json()["apiKey"]["keyId"]
    assert http.get("/v1/partners/me", headers=keyed(new_secret)).status_code == 200
    assert http.get("/v1/partners/me", headers=keyed(partner.secret)).status_code == 200
    assert wait_for(lambda: http.get("/v1/partners/me", headers=keyed(partner.secret)).status_code == 401)
    old = http.get("/v1/partners/me", headers=keyed(partner.secret))
    assert reason(old) == "API_KEY_REVOKED"
    assert http.get("/v1/partners/me", headers=keyed(new_secret)).status_code == 200

    # Revocation is immediate at the edge (within the check's 1 s key cache).
    spare = http.post(
        f"/v1/partners/me/licenses/{partner.license_id}/apiKeys",
        json={"environment": "API_KEY_ENVIRONMENT_LIVE", "displayName": "spare"},
        headers=bearer(partner.owner_token),
    ).json()["secret"]
    revoked = http.post(
        f"/v1/partners/me/licenses/{partner.license_id}/apiKeys/{new_key_id}:revoke",
        json={},
        headers=bearer(partner.owner_token),
    )
    assert revoked.status_code == 200, revoked.text
    assert wait_for(
        lambda: reason(http.get("/v1/partners/me", headers=keyed(new_secret))) == "API_KEY_REVOKED"
    )

    # Suspending the licence, then the partner: 403 with the reason.
    suspended = http.post(
        f"/v1/partners/{partner.partner_id}/licenses/{partner.license_id}:suspend",
        json={"reason": "e2e"},
        headers=bearer(admin),
    )
    assert suspended.status_code == 200, suspended.text
    assert wait_for(lambda: reason(http.get("/v1/partners/me", headers=keyed(spare))) == "LICENSE_SUSPENDED")
    assert http.get("/v1/partners/me", headers=keyed(spare)).status_code == 403
    paused = http.post(
        f"/v1/partners/{partner.partner_id}:suspend", json={"reason": "e2e"}, headers=bearer(admin)
    )
    assert paused.status_code == 200, paused.text
    assert wait_for(lambda: reason(http.get("/v1/partners/me", headers=keyed(spare))) == "PARTNER_SUSPENDED")


def test_requests_without_a_key_skip_the_key_check(http: httpx.Client) -> None:
    jwks = http.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert "ratelimit-limit" not in jwks.headers
    # A client cannot fake the edge's own markers: a sent x-gx-limited is dropped, not obeyed.
    bad_login = http.post(
        "/v1/auth:login",
        json={"email": "nobody@example.com", "password": "wrong"},
        headers={"x-gx-limited": "address"},
    )
    assert bad_login.status_code != 429, bad_login.text


def test_anonymous_sign_ups_from_one_address_are_throttled(http: httpx.Client) -> None:
    statuses = []
    refusal: httpx.Response | None = None
    for _ in range(REGISTER_LIMIT + 2):
        email = f"bot-{uuid.uuid4().hex[:10]}@example.com"
        response = http.post(
            "/v1/users:register", json={"email": email, "password": PASSWORD, "displayName": "Bot"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            refusal = refusal or response
    # The journey's partner registered once from this address already (same minute or not,
    # at most REGISTER_LIMIT go through in a burst).
    assert statuses.count(200) <= REGISTER_LIMIT and statuses[-1] == 429, statuses
    assert refusal is not None
    assert reason(refusal) == "CLIENT_RATE_LIMITED"
    assert int(refusal.headers["retry-after"]) >= 1
    # A made-up x-forwarded-for does not buy a fresh address: the edge trusts no proxy in front
    # of it here (GX_EDGE_XFF_TRUSTED_HOPS = 0), so the address is the connection's.
    spoofed = http.post(
        "/v1/users:register",
        json={
            "email": f"bot-{uuid.uuid4().hex[:10]}@example.com",
            "password": PASSWORD,
            "displayName": "Bot",
        },
        headers={"x-forwarded-for": "203.0.113.9"},
    )
    assert spoofed.status_code == 429, spoofed.text
    # Other routes are not affected by the sign-up limit.
    assert http.get("/.well-known/jwks.json").status_code == 200
