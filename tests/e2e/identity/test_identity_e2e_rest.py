"""Identity end to end over plain HTTP through the real Envoy edge (transcoding, jwt_authn, errors)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.mail_queue import verification_code
from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e

PASSWORD = "E2e pass phrase 1234"


def _email(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _details(body: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    info = None
    violations: list[dict[str, Any]] = []
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            info = detail
        elif detail.get("@type", "").endswith("google.rpc.BadRequest"):
            violations = detail.get("fieldViolations", [])
    return info, violations


def _user(
    client: httpx.Client, prefix: str = "e2e", *, verified_in: EdgeStack | None = None
) -> tuple[str, str, dict[str, Any]]:
    email = _email(prefix)
    registered = client.post("/v1/users:register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 200, registered.text
    login = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    if verified_in is not None:
        # KYC needs a verified email: the code of the registration mail, as the user would.
        code = verification_code(verified_in.database_url, email)
        verified = client.post(
            "/v1/users/me:verifyEmail", json={"code": code}, headers=_auth(login.json()["accessToken"])
        )
        assert verified.status_code == 200, verified.text
    return registered.json()["user"]["userId"], email, login.json()


def _psql_url(identity_edge: EdgeStack) -> str:
    return identity_edge.database_url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="module")
def admin(super_admin: dict[str, Any]) -> dict[str, Any]:
    """The session's super-admin (tests/e2e/identity/conftest.py), logged in through the edge."""
    return super_admin


def test_register_login_profile_refresh_logout_then_refresh_is_refused(client: httpx.Client) -> None:
    email = _email()
    registered = client.post(
        "/v1/users:register",
        json={"email": email, "password": PASSWORD, "displayName": "Ana", "countryCode": "LK"},
    )
    assert registered.status_code == 200, registered.text
    user = registered.json()["user"]
    assert user["state"] == "USER_STATE_REGISTERED" and user["roles"] == ["ROLE_USER"] and user["createTime"]

    login = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD}).json()
    assert login["tokenType"] == "Bearer" and login["expiresIn"] == 900

    me = client.get("/v1/users/me", headers=_auth(login["accessToken"]))
    assert me.status_code == 200 and me.json()["user"]["userId"] == user["userId"]
    by_id = client.get(f"/v1/users/{user['userId']}", headers=_auth(login["accessToken"]))
    assert by_id.status_code == 200 and by_id.json()["user"]["displayName"] == "Ana"

    patched = client.patch(
        "/v1/users/me",
        params={"updateMask": "displayName"},
        json={"displayName": "Ana P."},
        headers=_auth(login["accessToken"]),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["user"]["displayName"] == "Ana P."

    refreshed = client.post("/v1/auth:refresh", json={"refreshToken": login["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refreshToken"] != login["refreshToken"]
    assert client.get("/v1/users/me", headers=_auth(new["accessToken"])).status_code == 200

    logout = client.post("/v1/auth:logout", json={"refreshToken": new["refreshToken"]})
    assert logout.status_code == 200, logout.text
    refused = client.post("/v1/auth:refresh", json={"refreshToken": new["refreshToken"]})
    assert refused.status_code == 401
    assert _details(refused.json())[0]["reason"] == "REFRESH_TOKEN_REVOKED"  # type: ignore[index]
    # The spent first token is now a replay: still refused.
    assert client.post("/v1/auth:refresh", json={"refreshToken": login["refreshToken"]}).status_code == 401


def test_kyc_submit_then_admin_approve_records_create_user_in_the_outbox(
    client: httpx.Client, admin: dict[str, Any], identity_edge: EdgeStack
) -> None:
    user_id, _, tokens = _user(client, "kyc", verified_in=identity_edge)
    docs = [
        # Unique per run: a document already used by another user blocks approval (DUPLICATE_IDENTITY).
        {
            "type": "KYC_DOCUMENT_TYPE_PASSPORT",
            "sha256": hashlib.sha256(f"passport {user_id}".encode()).hexdigest(),
        },
        {
            "type": "KYC_DOCUMENT_TYPE_SELFIE",
            "sha256": hashlib.sha256(f"selfie {user_id}".encode()).hexdigest(),
        },
    ]
    submitted = client.post(
        "/v1/users/me/kyc:submit",
        json={
            "firstName": "Ana",
            "lastName": "Perera",
            "dateOfBirth": "1991-07-15",
            "nationality": "LK",
            "documents": docs,
        },
        headers=_auth(tokens["accessToken"]),
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["kyc"]["state"] == "KYC_STATE_PENDING"

    queue = client.get(
        "/v1/kycSubmissions",
        params={"state": "KYC_STATE_PENDING", "pageSize": 100},
        headers=_auth(admin["accessToken"]),
    )
    assert queue.status_code == 200, queue.text
    assert user_id in [k["userId"] for k in queue.json()["kycSubmissions"]]

    approved = client.post(
        f"/v1/users/{user_id}/kyc:approve",
        json={"requestId": str(uuid.uuid4())},
        headers=_auth(admin["accessToken"]),
    )
    assert approved.status_code == 202, approved.text
    operation = approved.json()
    assert operation["name"].startswith("operations/")
    assert (
        operation["commandType"] == "COMMAND_TYPE_CREATE_USER"
        and operation["state"] == "OPERATION_STATE_PENDING"
    )

    with psycopg.connect(_psql_url(identity_edge)) as conn:
        row = conn.execute(
            "SELECT command_type, status, payload, request_id FROM outbox.commands WHERE id = %s",
            (operation["name"].removeprefix("operations/"),),
        ).fetchone()
    assert row is not None
    command_type, status, payload, request_id = row
    assert (command_type, status) == ("CREATE_USER", "PENDING")
    assert payload == {
        "userId": user_id,
        "countryCode": "LK",
        "dateOfBirth": "1991-07-15",
        "requestId": request_id,
    }

    me = client.get("/v1/users/me", headers=_auth(tokens["accessToken"])).json()["user"]
    assert me["state"] == "USER_STATE_APPROVED_PENDING_ONCHAIN"
    kyc = client.get("/v1/users/me/kyc", headers=_auth(tokens["accessToken"])).json()["kyc"]
    assert kyc["state"] == "KYC_STATE_APPROVED" and kyc["operation"] == operation["name"]


def test_reject_with_reason_is_readable_by_the_user(
    client: httpx.Client, admin: dict[str, Any], identity_edge: EdgeStack
) -> None:
    user_id, _, tokens = _user(client, "kyc", verified_in=identity_edge)
    client.post(
        "/v1/users/me/kyc:submit",
        json={
            "firstName": "Bo",
            "lastName": "Lee",
            "dateOfBirth": "1980-01-01",
            "nationality": "KR",
            "documents": [{"type": "KYC_DOCUMENT_TYPE_NATIONAL_ID", "sha256": "c" * 64}],
        },
        headers=_auth(tokens["accessToken"]),
    ).raise_for_status()
    rejected = client.post(
        f"/v1/users/{user_id}/kyc:reject",
        json={"reason": "ID card expired"},
        headers=_auth(admin["accessToken"]),
    )
    assert rejected.status_code == 200, rejected.text
    mine = client.get("/v1/users/me/kyc", headers=_auth(tokens["accessToken"])).json()["kyc"]
    assert mine["state"] == "KYC_STATE_REJECTED" and mine["rejectionReason"] == "ID card expired"


def test_malformed_json_is_400_json(client: httpx.Client) -> None:
    resp = client.post(
        "/v1/users:register",
        content=b'{"email": "x@example.com", "password": ',
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["code"] == 3


def test_missing_and_invalid_fields_are_400_with_field_violations(client: httpx.Client) -> None:
    missing = client.post("/v1/users:register", json={})
    assert missing.status_code == 400
    fields = {v["field"] for v in _details(missing.json())[1]}
    assert {"email", "password"} <= fields
    invalid = client.post(
        "/v1/users:register",
        json={"email": "nope", "password": PASSWORD, "countryCode": "Sri Lanka", "requestId": "x"},
    )
    assert invalid.status_code == 400
    assert {"email", "country_code", "request_id"} <= {v["field"] for v in _details(invalid.json())[1]}
    weak = client.post("/v1/users:register", json={"email": _email(), "password": "abcdefghijklmnop"})
    assert weak.status_code == 400
    (violation,) = _details(weak.json())[1]
    assert violation["field"] == "password" and "two kinds" in violation["description"]


def test_wrong_types_and_unknown_fields_are_400(client: httpx.Client) -> None:
    wrong_type = client.post("/v1/users:register", json={"email": ["a"], "password": PASSWORD})
    assert wrong_type.status_code == 400 and wrong_type.json()["code"] == 3
    unknown = client.post(
        "/v1/users:register", json={"email": _email(), "password": PASSWORD, "isAdmin": True}
    )
    assert unknown.status_code == 400 and unknown.json()["code"] == 3


def test_oversized_body_is_refused_with_json(client: httpx.Client) -> None:
    resp = client.post(
        "/v1/users:register",
        json={"email": _email(), "password": PASSWORD, "displayName": "x" * (256 * 1024)},
    )
    assert resp.status_code in (400, 413)
    assert resp.headers["content-type"].startswith("application/json")


def test_wrong_password_is_401_without_saying_which(client: httpx.Client) -> None:
    _, email, _ = _user(client)
    bad_password = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD + "?"})
    no_such_user = client.post("/v1/auth:login", json={"email": _email("ghost"), "password": PASSWORD})
    assert bad_password.status_code == no_such_user.status_code == 401
    assert bad_password.json()["message"] == no_such_user.json()["message"] == "wrong email or password"


def test_duplicate_email_is_409(client: httpx.Client) -> None:
    _, email, _ = _user(client)
    resp = client.post("/v1/users:register", json={"email": email.upper(), "password": PASSWORD})
    assert resp.status_code == 409
    assert _details(resp.json())[0]["reason"] == "EMAIL_TAKEN"  # type: ignore[index]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_expired_forged_and_alg_none_tokens_are_401(client: httpx.Client, identity_edge: EdgeStack) -> None:
    user_id, _, tokens = _user(client)
    kid = jwt.get_unverified_header(tokens["accessToken"])["kid"]
    now = int(time.time())
    claims = {
        "iss": "gx-identity",
        "aud": "gx-api",
        "sub": user_id,
        "roles": ["USER"],
        "iat": now,
        "exp": now + 300,
        "jti": "j",
    }
    forged = jwt.encode(
        claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid}
    )
    alg_none = (
        f"{_b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}.{_b64(json.dumps(claims).encode())}."
    )
    from services.identity.keys import KeyStore

    real_key = KeyStore.open(identity_edge.keys_dir).current
    expired = jwt.encode(
        {**claims, "iat": now - 3600, "exp": now - 1800},
        real_key.private_key,
        algorithm="ES256",
        headers={"kid": real_key.kid},
    )
    for token in (forged, alg_none, expired, "garbage"):
        resp = client.get("/v1/users/me", headers=_auth(token))
        assert resp.status_code == 401, (token[:20], resp.status_code, resp.text)


def test_another_users_data_is_not_found(client: httpx.Client) -> None:
    _, _, mine = _user(client)
    theirs, _, _ = _user(client)
    assert client.get(f"/v1/users/{theirs}", headers=_auth(mine["accessToken"])).status_code == 404
    assert client.get(f"/v1/users/{theirs}/kyc", headers=_auth(mine["accessToken"])).status_code == 404
    patched = client.patch(
        f"/v1/users/{theirs}", json={"displayName": "pwned"}, headers=_auth(mine["accessToken"])
    )
    assert patched.status_code == 404
    admin_only = client.get("/v1/kycSubmissions", headers=_auth(mine["accessToken"]))
    assert admin_only.status_code == 403


def test_idempotency_key_header_replays_the_registration(client: httpx.Client) -> None:
    key = str(uuid.uuid4())
    email = _email()
    first = client.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD}, headers={"Idempotency-Key": key}
    )
    again = client.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD}, headers={"Idempotency-Key": key}
    )
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["user"]["userId"] == again.json()["user"]["userId"]
    reused = client.post(
        "/v1/users:register", json={"email": _email(), "password": PASSWORD}, headers={"Idempotency-Key": key}
    )
    assert reused.status_code == 400
    assert _details(reused.json())[0]["reason"] == "REQUEST_ID_REUSED"  # type: ignore[index]


def test_jwks_is_real_jwks_json_with_kids_that_verify_login_tokens(client: httpx.Client) -> None:
    _, _, tokens = _user(client)
    resp = client.get("/.well-known/jwks.json")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    jwks = resp.json()
    assert set(jwks) == {"keys"}
    by_kid = {k["kid"]: k for k in jwks["keys"]}
    header = jwt.get_unverified_header(tokens["accessToken"])
    assert header["alg"] == "ES256" and header["kid"] in by_kid
    key = jwt.PyJWK(by_kid[header["kid"]]).key
    claims = jwt.decode(
        tokens["accessToken"], key, algorithms=["ES256"], audience="gx-api", issuer="gx-identity"
    )
    assert set(claims) >= {"sub", "roles", "aud", "iss", "exp", "iat", "jti"}


def test_repeated_failures_lock_the_account_with_429(client: httpx.Client) -> None:
    _, email, _ = _user(client)
    for _ in range(5):
        assert (
            client.post("/v1/auth:login", json={"email": email, "password": "Wrong pass 12345"}).status_code
            == 401
        )
    locked = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD})
    assert locked.status_code == 429
    info, _ = _details(locked.json())
    assert (
        info is not None
        and info["reason"] == "ACCOUNT_LOCKED"
        and int(info["metadata"]["retry_after_seconds"]) > 0
    )
