"""Accounts over gRPC: email verification before KYC, forgotten password, change password.

The real identity server over real PostgreSQL and Redis; mails are read from the notifications
outbox they are queued in (no notifier runs here; tests/e2e read them from the SMTP sink).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid

import grpc
import pytest
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from sqlalchemy import text

from tests.grpc.identity.identity_harness import (
    PASSWORD,
    Identity,
    bearer,
    login,
    mail_count,
    new_user,
    queued_mail,
    register,
    rich_error,
    unique_email,
    wait_for_mails,
)

NEW_PASSWORD = "Brand new secret 2027"


def _kyc() -> svc.SubmitKycRequest:
    digest = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    return svc.SubmitKycRequest(
        user_id="me",
        first_name="Ana",
        last_name="Perera",
        date_of_birth="1990-04-01",
        nationality="LK",
        documents=[identity_pb2.KycDocument(type=identity_pb2.KYC_DOCUMENT_TYPE_PASSPORT, sha256=digest)],
    )


def _from(address: str) -> tuple[tuple[str, str], ...]:
    # The test connects over loopback, a trusted proxy: x-forwarded-for names the client, so
    # each test's address-limited requests get an address of their own.
    return (("x-forwarded-for", address),)


def _random_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


async def _expect(call: object, code: grpc.StatusCode, reason: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call  # type: ignore[misc]
    assert failed.value.code() == code, failed.value.details()
    info, _ = rich_error(failed.value)
    assert info is not None and info.reason == reason
    return failed.value


async def _ended(identity: Identity, *sessions: svc.LoginResponse) -> None:
    """Each session's access token is denied and its refresh token revoked."""
    for session in sessions:
        await _expect(
            identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(session.access_token)),
            grpc.StatusCode.UNAUTHENTICATED,
            "TOKEN_REVOKED",
        )
        await _expect(
            identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=session.refresh_token)),
            grpc.StatusCode.UNAUTHENTICATED,
            "REFRESH_TOKEN_REVOKED",
        )


async def _expire(identity: Identity, email: str, purpose: str) -> None:
    # Time passing, simulated in the database: the live token's expiry moves into the past.
    async with identity.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE identity.account_tokens SET expires_at = now() - interval '1 second'"
                " WHERE lower(email) = lower(:email) AND purpose = :purpose"
            ),
            {"email": email, "purpose": purpose},
        )


# Email verification


async def test_register_mails_a_code_and_kyc_needs_it_verified(identity: Identity) -> None:
    user_id, email, tokens = await new_user(identity, "verify", verified=False)
    auth = bearer(tokens.access_token)
    mail = await queued_mail(identity, email, "email_verification")
    assert mail["code"].startswith("gxv_") and mail["code"] in mail["link"]
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=auth)
    assert not me.user.email_verified

    await _expect(
        identity.stub.SubmitKyc(_kyc(), metadata=auth),
        grpc.StatusCode.FAILED_PRECONDITION,
        "EMAIL_NOT_VERIFIED",
    )

    verified = await identity.stub.VerifyEmail(
        svc.VerifyEmailRequest(user_id="me", code=mail["code"]), metadata=auth
    )
    assert verified.user.user_id == user_id and verified.user.email_verified
    submitted = await identity.stub.SubmitKyc(_kyc(), metadata=auth)
    assert submitted.kyc.state == identity_pb2.KYC_STATE_PENDING


async def test_a_code_is_single_use_and_wrong_or_expired_codes_fail(identity: Identity) -> None:
    _, email, tokens = await new_user(identity, "verify", verified=False)
    auth = bearer(tokens.access_token)
    code = (await queued_mail(identity, email, "email_verification"))["code"]

    for wrong in ("gxv_" + "A" * 32, "not-a-code", code.replace("gxv_", "gxp_")):
        await _expect(
            identity.stub.VerifyEmail(svc.VerifyEmailRequest(user_id="me", code=wrong), metadata=auth),
            grpc.StatusCode.INVALID_ARGUMENT,
            "VERIFICATION_CODE_INVALID",
        )
    await _expire(identity, email, "VERIFY_EMAIL")
    await _expect(
        identity.stub.VerifyEmail(svc.VerifyEmailRequest(user_id="me", code=code), metadata=auth),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VERIFICATION_CODE_INVALID",
    )
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=auth)
    assert not me.user.email_verified

    await identity.stub.ResendVerificationEmail(
        svc.ResendVerificationEmailRequest(user_id="me"), metadata=auth
    )
    fresh = (await queued_mail(identity, email, "email_verification"))["code"]
    assert fresh != code
    await identity.stub.VerifyEmail(svc.VerifyEmailRequest(user_id="me", code=fresh), metadata=auth)
    await _expect(
        identity.stub.VerifyEmail(svc.VerifyEmailRequest(user_id="me", code=fresh), metadata=auth),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VERIFICATION_CODE_INVALID",
    )


async def test_a_resend_supersedes_the_older_code(identity: Identity) -> None:
    _, email, tokens = await new_user(identity, "verify", verified=False)
    auth = bearer(tokens.access_token)
    first = (await queued_mail(identity, email, "email_verification"))["code"]
    await identity.stub.ResendVerificationEmail(
        svc.ResendVerificationEmailRequest(user_id="me"), metadata=auth
    )
    second = (await queued_mail(identity, email, "email_verification"))["code"]
    await _expect(
        identity.stub.VerifyEmail(svc.VerifyEmailRequest(user_id="me", code=first), metadata=auth),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VERIFICATION_CODE_INVALID",
    )
    verified = await identity.stub.VerifyEmail(
        svc.VerifyEmailRequest(user_id="me", code=second), metadata=auth
    )
    assert verified.user.email_verified


async def test_another_users_code_verifies_nothing(identity: Identity) -> None:
    _, email_a, _ = await new_user(identity, "verify-a", verified=False)
    _, _, tokens_b = await new_user(identity, "verify-b", verified=False)
    code_a = (await queued_mail(identity, email_a, "email_verification"))["code"]
    await _expect(
        identity.stub.VerifyEmail(
            svc.VerifyEmailRequest(user_id="me", code=code_a), metadata=bearer(tokens_b.access_token)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VERIFICATION_CODE_INVALID",
    )
    me_b = await identity.stub.GetUser(
        svc.GetUserRequest(user_id="me"), metadata=bearer(tokens_b.access_token)
    )
    assert not me_b.user.email_verified


async def test_resending_is_limited_and_refused_once_verified(identity: Identity) -> None:
    _, email, tokens = await new_user(identity, "resend", verified=False)
    auth = bearer(tokens.access_token)
    for _ in range(3):
        await identity.stub.ResendVerificationEmail(
            svc.ResendVerificationEmailRequest(user_id="me"), metadata=auth
        )
    error = await _expect(
        identity.stub.ResendVerificationEmail(
            svc.ResendVerificationEmailRequest(user_id="me"), metadata=auth
        ),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "VERIFICATION_RESEND_LIMITED",
    )
    info, _ = rich_error(error)
    assert info is not None and int(info.metadata["retry_after_seconds"]) > 0
    # The registration mail and three resends; the refused one queued nothing.
    assert await mail_count(identity, email, "email_verification") == 4

    code = (await queued_mail(identity, email, "email_verification"))["code"]
    await identity.stub.VerifyEmail(svc.VerifyEmailRequest(user_id="me", code=code), metadata=auth)
    _, verified_email, verified_tokens = await new_user(identity, "resend-done")
    await _expect(
        identity.stub.ResendVerificationEmail(
            svc.ResendVerificationEmailRequest(user_id="me"), metadata=bearer(verified_tokens.access_token)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "EMAIL_ALREADY_VERIFIED",
    )
    assert await mail_count(identity, verified_email, "email_verification") == 1


async def test_resend_with_the_same_request_id_sends_one_mail(identity: Identity) -> None:
    _, email, tokens = await new_user(identity, "resend-idem", verified=False)
    request = svc.ResendVerificationEmailRequest(user_id="me", request_id=str(uuid.uuid4()))
    await identity.stub.ResendVerificationEmail(request, metadata=bearer(tokens.access_token))
    await identity.stub.ResendVerificationEmail(request, metadata=bearer(tokens.access_token))
    assert await mail_count(identity, email, "email_verification") == 2


# Forgotten password


async def test_reset_request_answers_the_same_for_unknown_and_known_emails(identity: Identity) -> None:
    _, email, _ = await new_user(identity, "reset")
    unknown = unique_email("nobody")
    address = _from(_random_address())
    known_answer = await identity.stub.RequestPasswordReset(
        svc.RequestPasswordResetRequest(email=email.upper()), metadata=address
    )
    unknown_answer = await identity.stub.RequestPasswordReset(
        svc.RequestPasswordResetRequest(email=unknown), metadata=address
    )
    assert known_answer.SerializeToString() == unknown_answer.SerializeToString() == b""
    mail = await queued_mail(identity, email, "password_reset")
    assert mail["token"].startswith("gxp_") and mail["expires_minutes"] == 15
    assert await mail_count(identity, unknown, "password_reset") == 0


async def test_reset_sets_the_password_and_every_old_token_fails(identity: Identity) -> None:
    _, email, first = await new_user(identity, "reset")
    second = await login(identity, email)
    await identity.stub.RequestPasswordReset(
        svc.RequestPasswordResetRequest(email=email), metadata=_from(_random_address())
    )
    token = (await queued_mail(identity, email, "password_reset"))["token"]

    await identity.stub.ResetPassword(svc.ResetPasswordRequest(token=token, new_password=NEW_PASSWORD))

    await _ended(identity, first, second)
    await _expect(login(identity, email, PASSWORD), grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    fresh = await login(identity, email, NEW_PASSWORD)
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(fresh.access_token))
    assert me.user.email.lower() == email.lower()
    notice = await queued_mail(identity, email, "password_changed")
    assert notice["how"] == "reset"

    # Single use: the same token again fails, and says nothing about the account.
    await _expect(
        identity.stub.ResetPassword(
            svc.ResetPasswordRequest(token=token, new_password="Yet another pass 99")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "RESET_TOKEN_INVALID",
    )


async def test_expired_wrong_and_malformed_reset_tokens_fail_alike(identity: Identity) -> None:
    _, email, _ = await new_user(identity, "reset")
    await identity.stub.RequestPasswordReset(
        svc.RequestPasswordResetRequest(email=email), metadata=_from(_random_address())
    )
    token = (await queued_mail(identity, email, "password_reset"))["token"]
    await _expire(identity, email, "RESET_PASSWORD")
    for candidate in (token, "gxp_" + "B" * 32, "garbage", token.replace("gxp_", "gxv_")):
        error = await _expect(
            identity.stub.ResetPassword(svc.ResetPasswordRequest(token=candidate, new_password=NEW_PASSWORD)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "RESET_TOKEN_INVALID",
        )
        assert email.lower() not in (error.details() or "").lower()
    await login(identity, email, PASSWORD)


async def test_a_weak_new_password_is_refused_and_the_token_stays_usable(identity: Identity) -> None:
    _, email, _ = await new_user(identity, "reset")
    await identity.stub.RequestPasswordReset(
        svc.RequestPasswordResetRequest(email=email), metadata=_from(_random_address())
    )
    token = (await queued_mail(identity, email, "password_reset"))["token"]
    with pytest.raises(grpc.aio.AioRpcError) as weak:
        await identity.stub.ResetPassword(
            svc.ResetPasswordRequest(token=token, new_password="abcdefghijklmnop")
        )
    assert weak.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, bad = rich_error(weak.value)
    assert bad is not None and {v.field for v in bad.field_violations} == {"new_password"}
    await identity.stub.ResetPassword(svc.ResetPasswordRequest(token=token, new_password=NEW_PASSWORD))
    await login(identity, email, NEW_PASSWORD)


async def test_a_newer_reset_mail_supersedes_the_older_token(identity: Identity) -> None:
    _, email, _ = await new_user(identity, "reset")
    address = _from(_random_address())
    await identity.stub.RequestPasswordReset(svc.RequestPasswordResetRequest(email=email), metadata=address)
    first = (await queued_mail(identity, email, "password_reset"))["token"]
    await identity.stub.RequestPasswordReset(svc.RequestPasswordResetRequest(email=email), metadata=address)
    await wait_for_mails(identity, email, "password_reset", 2)
    second = (await queued_mail(identity, email, "password_reset"))["token"]
    assert second != first
    await _expect(
        identity.stub.ResetPassword(svc.ResetPasswordRequest(token=first, new_password=NEW_PASSWORD)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "RESET_TOKEN_INVALID",
    )
    await identity.stub.ResetPassword(svc.ResetPasswordRequest(token=second, new_password=NEW_PASSWORD))


async def test_reset_requests_are_limited_per_address_and_per_email(identity: Identity) -> None:
    address = _from(_random_address())
    for _ in range(10):
        await identity.stub.RequestPasswordReset(
            svc.RequestPasswordResetRequest(email=unique_email("nobody")), metadata=address
        )
    await _expect(
        identity.stub.RequestPasswordReset(
            svc.RequestPasswordResetRequest(email=unique_email()), metadata=address
        ),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PASSWORD_RESET_LIMITED",
    )

    # Per email: a fourth request in the window answers the same, and mails nothing.
    _, email, _ = await new_user(identity, "reset-flood")
    for _ in range(4):
        answer = await identity.stub.RequestPasswordReset(
            svc.RequestPasswordResetRequest(email=email), metadata=_from(_random_address())
        )
        assert answer.SerializeToString() == b""
    await wait_for_mails(identity, email, "password_reset", 3)
    await asyncio.sleep(0.5)  # room for a fourth mail, which must not come
    assert await mail_count(identity, email, "password_reset") == 3


# Change password


async def test_change_password_ends_other_sessions_and_answers_a_new_one(identity: Identity) -> None:
    _, email, current = await new_user(identity, "change")
    other = await login(identity, email)
    changed = await identity.stub.ChangePassword(
        svc.ChangePasswordRequest(user_id="me", current_password=PASSWORD, new_password=NEW_PASSWORD),
        metadata=bearer(current.access_token),
    )
    assert changed.token_type == "Bearer" and changed.refresh_token

    await _ended(identity, current, other)
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(changed.access_token))
    assert me.user.email.lower() == email.lower()
    rotated = await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=changed.refresh_token))
    assert rotated.access_token
    await _expect(login(identity, email, PASSWORD), grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    await login(identity, email, NEW_PASSWORD)
    assert (await queued_mail(identity, email, "password_changed"))["how"] == "change"


async def test_change_password_needs_the_current_one_and_the_rules(identity: Identity) -> None:
    user_id, email, tokens = await new_user(identity, "change")
    auth = bearer(tokens.access_token)
    error = await _expect(
        identity.stub.ChangePassword(
            svc.ChangePasswordRequest(
                user_id="me", current_password="Not my password 1", new_password=NEW_PASSWORD
            ),
            metadata=auth,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "WRONG_PASSWORD",
    )
    _, bad = rich_error(error)
    assert bad is not None and [v.field for v in bad.field_violations] == ["current_password"]
    with pytest.raises(grpc.aio.AioRpcError) as weak:
        await identity.stub.ChangePassword(
            svc.ChangePasswordRequest(user_id=user_id, current_password=PASSWORD, new_password=email),
            metadata=auth,
        )
    assert weak.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Nothing changed: the old password and the session still work.
    await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=auth)
    await login(identity, email, PASSWORD)
    assert await mail_count(identity, email, "password_changed") == 0


async def test_nobody_changes_another_users_password(identity: Identity) -> None:
    victim = (await register(identity, unique_email("victim"))).user.user_id
    _, _, tokens = await new_user(identity, "change")
    await _expect(
        identity.stub.ChangePassword(
            svc.ChangePasswordRequest(user_id=victim, current_password=PASSWORD, new_password=NEW_PASSWORD),
            metadata=bearer(tokens.access_token),
        ),
        grpc.StatusCode.NOT_FOUND,
        "USER_NOT_FOUND",
    )
