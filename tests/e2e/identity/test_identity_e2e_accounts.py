"""Accounts end to end over plain HTTP through the real Envoy edge: verification before KYC,
forgotten password, change password.

The mails travel the whole way: identity queues them in the transaction of each change, the
notifier sends them over SMTP to the dev stack's sink, and the tests read them as `gx dev mail
--json` prints them (tests.support.mail.stack_mail), codes and links extracted.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from devstack.mail import ReceivedMail
from tests.support.mail import stack_mail
from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e

PASSWORD = "E2e pass phrase 1234"
NEW_PASSWORD = "E2e newer phrase 5678"


def _mail(stack: EdgeStack, to: str, subject: str, count: int = 1, limit: float = 60.0) -> ReceivedMail:
    """The latest of at least `count` mails to `to` whose subject contains `subject`, from the sink."""
    deadline = time.monotonic() + limit
    while True:
        found = [m for m in stack_mail(stack.config) if to in m.to and subject in m.subject]
        if len(found) >= count:
            return found[-1]
        assert time.monotonic() < deadline, f"no mail {subject!r} to {to} within {limit}s"
        time.sleep(0.1)


def _code(mail: ReceivedMail, prefix: str) -> str:
    codes = [c for c in mail.codes if c.startswith(prefix)]
    assert len(codes) == 1, mail.codes
    return codes[0]


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _reason(response: httpx.Response) -> str | None:
    for detail in response.json().get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    return None


def _registered(client: httpx.Client) -> tuple[str, dict[str, Any]]:
    email = f"acct-{uuid.uuid4().hex[:12]}@example.com"
    assert client.post("/v1/users:register", json={"email": email, "password": PASSWORD}).status_code == 200
    login = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return email, login.json()


def _kyc(client: httpx.Client, token: str) -> httpx.Response:
    digest = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    return client.post(
        "/v1/users/me/kyc:submit",
        json={
            "firstName": "Ana",
            "lastName": "Perera",
            "dateOfBirth": "1990-04-01",
            "nationality": "LK",
            "documents": [{"type": "KYC_DOCUMENT_TYPE_PASSPORT", "sha256": digest}],
        },
        headers=_auth(token),
    )


def test_register_mail_verify_then_kyc(client: httpx.Client, identity_edge: EdgeStack) -> None:
    email, tokens = _registered(client)
    access = tokens["accessToken"]
    refused = _kyc(client, access)
    assert refused.status_code == 400 and _reason(refused) == "EMAIL_NOT_VERIFIED", refused.text

    mail = _mail(identity_edge, email, "Confirm your email")
    code = _code(mail, "gxv_")
    assert any(code in link for link in mail.links) and mail.html is not None and code in mail.html
    wrong = client.post("/v1/users/me:verifyEmail", json={"code": "gxv_" + "x" * 32}, headers=_auth(access))
    assert wrong.status_code == 400 and _reason(wrong) == "VERIFICATION_CODE_INVALID"
    verified = client.post("/v1/users/me:verifyEmail", json={"code": code}, headers=_auth(access))
    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["emailVerified"] is True
    again = client.post("/v1/users/me:verifyEmail", json={"code": code}, headers=_auth(access))
    assert again.status_code == 400 and _reason(again) == "VERIFICATION_CODE_INVALID"

    submitted = _kyc(client, access)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["kyc"]["state"] == "KYC_STATE_PENDING"


def test_forgot_mail_reset_and_the_old_tokens_fail(client: httpx.Client, identity_edge: EdgeStack) -> None:
    email, tokens = _registered(client)
    requested = client.post("/v1/auth:requestPasswordReset", json={"email": email})
    assert requested.status_code == 200 and requested.json() == {}
    token = _code(_mail(identity_edge, email, "Reset your GX password"), "gxp_")

    reset = client.post("/v1/auth:resetPassword", json={"token": token, "newPassword": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text

    old_access = client.get("/v1/users/me", headers=_auth(tokens["accessToken"]))
    assert old_access.status_code == 401, old_access.text
    old_refresh = client.post("/v1/auth:refresh", json={"refreshToken": tokens["refreshToken"]})
    assert old_refresh.status_code == 401 and _reason(old_refresh) == "REFRESH_TOKEN_REVOKED"
    assert client.post("/v1/auth:login", json={"email": email, "password": PASSWORD}).status_code == 401
    fresh = client.post("/v1/auth:login", json={"email": email, "password": NEW_PASSWORD})
    assert fresh.status_code == 200, fresh.text
    assert client.get("/v1/users/me", headers=_auth(fresh.json()["accessToken"])).status_code == 200
    assert "password reset link" in _mail(identity_edge, email, "password was changed").text

    reused = client.post("/v1/auth:resetPassword", json={"token": token, "newPassword": "Another e2e pass 9"})
    assert reused.status_code == 400 and _reason(reused) == "RESET_TOKEN_INVALID"


def test_an_unknown_email_gets_the_same_answer(client: httpx.Client) -> None:
    email, _ = _registered(client)
    known = client.post("/v1/auth:requestPasswordReset", json={"email": email})
    unknown = client.post(
        "/v1/auth:requestPasswordReset", json={"email": f"nobody-{uuid.uuid4().hex}@example.com"}
    )
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (200, b"{}")


def test_an_expired_reset_token_is_refused(client: httpx.Client, identity_edge: EdgeStack) -> None:
    email, _ = _registered(client)
    assert client.post("/v1/auth:requestPasswordReset", json={"email": email}).status_code == 200
    token = _code(_mail(identity_edge, email, "Reset your GX password"), "gxp_")
    # Fifteen minutes passing, simulated in the stack's database.
    with psycopg.connect(
        identity_edge.database_url.replace("postgresql+psycopg://", "postgresql://")
    ) as conn:
        conn.execute(
            "UPDATE identity.account_tokens SET expires_at = now() - interval '1 second'"
            " WHERE lower(email) = lower(%s) AND purpose = 'RESET_PASSWORD'",
            (email,),
        )
    expired = client.post("/v1/auth:resetPassword", json={"token": token, "newPassword": NEW_PASSWORD})
    assert expired.status_code == 400 and _reason(expired) == "RESET_TOKEN_INVALID"
    assert client.post("/v1/auth:login", json={"email": email, "password": PASSWORD}).status_code == 200


def test_change_password_ends_the_other_sessions(client: httpx.Client, identity_edge: EdgeStack) -> None:
    email, first = _registered(client)
    other = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD}).json()
    changed = client.post(
        "/v1/users/me:changePassword",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=_auth(first["accessToken"]),
    )
    assert changed.status_code == 200, changed.text
    session = changed.json()
    assert session["tokenType"] == "Bearer"
    assert client.get("/v1/users/me", headers=_auth(other["accessToken"])).status_code == 401
    stale = client.post("/v1/auth:refresh", json={"refreshToken": other["refreshToken"]})
    assert stale.status_code == 401 and _reason(stale) == "REFRESH_TOKEN_REVOKED"
    assert client.get("/v1/users/me", headers=_auth(session["accessToken"])).status_code == 200
    assert client.post("/v1/auth:refresh", json={"refreshToken": session["refreshToken"]}).status_code == 200
    assert "with the old password" in _mail(identity_edge, email, "password was changed").text
