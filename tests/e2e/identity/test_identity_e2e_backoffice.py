"""The back office end to end through the real Envoy edge: user search and the audit trail over REST."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import httpx
import jwt
import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "E2e pass phrase 1234"


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _register(client: httpx.Client, email: str, country: str) -> str:
    registered = client.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD, "countryCode": country}
    )
    assert registered.status_code == 200, registered.text
    user_id: str = registered.json()["user"]["userId"]
    return user_id


def test_an_admin_searches_users_and_reads_who_froze_whom(
    client: httpx.Client, super_admin: dict[str, Any]
) -> None:
    admin = _auth(super_admin["accessToken"])
    admin_id = jwt.decode(super_admin["accessToken"], options={"verify_signature": False})["sub"]
    tag = uuid.uuid4().hex[:10]
    lk = _register(client, f"desk{tag}-a@example.com", "LK")
    np_ = _register(client, f"desk{tag}-b@example.com", "NP")

    found = client.get("/v1/users", params={"emailPrefix": f"DESK{tag}", "countryCode": "NP"}, headers=admin)
    assert found.status_code == 200, found.text
    assert [u["userId"] for u in found.json()["users"]] == [np_]
    page = client.get("/v1/users", params={"emailPrefix": f"desk{tag}", "pageSize": 1}, headers=admin)
    assert page.status_code == 200 and [u["userId"] for u in page.json()["users"]] == [np_]
    rest = client.get(
        "/v1/users",
        params={"emailPrefix": f"desk{tag}", "pageSize": 1, "pageToken": page.json()["nextPageToken"]},
        headers=admin,
    )
    assert [u["userId"] for u in rest.json()["users"]] == [lk] and not rest.json().get("nextPageToken")
    frozen_filter = client.get(
        "/v1/users", params={"emailPrefix": f"desk{tag}", "state": "USER_STATE_FROZEN"}, headers=admin
    )
    assert frozen_filter.status_code == 200 and frozen_filter.json().get("users", []) == []

    # A client claiming another address through x-forwarded-for is not believed.
    spoofed = {**admin, "x-forwarded-for": "203.0.113.9"}
    froze = client.post(f"/v1/users/{lk}:freeze", json={"reason": "e2e review"}, headers=spoofed)
    assert froze.status_code == 200, froze.text
    trail = client.get(
        "/v1/auditEvents", params={"subject": f"users/{lk}", "action": "USER_FROZEN"}, headers=admin
    )
    assert trail.status_code == 200, trail.text
    (event,) = trail.json()["auditEvents"]
    assert (event["service"], event["actor"], event["subject"]) == ("identity", admin_id, f"users/{lk}")
    # The client's address as the edge saw it, never what the client claimed; and the call's ids.
    assert ipaddress.ip_address(event["address"]) and event["address"] != "203.0.113.9"
    assert event["requestId"] and len(event["traceId"]) == 32
    assert event["details"] == {"reason": "e2e review"}
    by_actor = client.get(
        "/v1/auditEvents", params={"actor": admin_id, "subject": f"users/{lk}"}, headers=admin
    ).json()
    assert [e["action"] for e in by_actor["auditEvents"]] == ["USER_FROZEN"]


def test_a_user_cannot_search_users_or_read_the_trail(client: httpx.Client) -> None:
    email = f"nosy-{uuid.uuid4().hex[:12]}@example.com"
    _register(client, email, "LK")
    login = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    user = _auth(login.json()["accessToken"])
    for path in ("/v1/users", "/v1/auditEvents"):
        refused = client.get(path, headers=user)
        assert refused.status_code == 403, refused.text
    assert client.get("/v1/auditEvents").status_code == 401
