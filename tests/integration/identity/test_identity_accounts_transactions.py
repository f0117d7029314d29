"""Account writes are one transaction each, over real PostgreSQL and Redis: a failure leaves nothing half-written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from gx.identity.v1 import identity_service_pb2 as svc
from redis.asyncio import Redis
from sqlalchemy import text

from services.common.errors import GxError, Unavailable
from services.identity.keys import KeyStore
from services.identity.server import build_all_usecases
from services.identity.usecases import Caller
from tests.integration.identity.conftest import Wired
from tests.support import mail_queue

PASSWORD = "Correct horse 42 battery"
NEW_PASSWORD = "Brand new secret 2027"


def _email() -> str:
    return f"acct-{uuid.uuid4().hex[:12]}@example.com"


async def _scalar(wired: Wired, sql: str, **params: object) -> Any:
    async with wired.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def _failing_mail(*args: object, **kwargs: object) -> uuid.UUID:
    raise RuntimeError("the notifications outbox refused the row")


async def test_a_registration_whose_mail_cannot_be_queued_leaves_no_user(wired: Wired) -> None:
    usecases, accounts = build_all_usecases(
        wired.settings, wired.sessions, wired.redis, KeyStore.open(wired.settings.identity.keys_dir)
    )
    accounts._mail = _failing_mail  # fault injection: the mail row's INSERT fails inside the transaction
    email = _email()
    with pytest.raises(RuntimeError):
        await usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))
    assert (
        await _scalar(wired, "SELECT count(*) FROM identity.users WHERE lower(email) = lower(:e)", e=email)
        == 0
    )
    assert (
        await _scalar(
            wired, "SELECT count(*) FROM identity.account_tokens WHERE lower(email) = lower(:e)", e=email
        )
        == 0
    )


async def test_a_resend_whose_mail_cannot_be_queued_keeps_the_old_code(wired: Wired) -> None:
    email = _email()
    user = (await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))).user
    caller = Caller(user.user_id, frozenset({"USER"}))
    first = (await mail_queue.latest_mail(wired.engine, email, "email_verification"))["code"]
    _, accounts = build_all_usecases(
        wired.settings, wired.sessions, wired.redis, KeyStore.open(wired.settings.identity.keys_dir)
    )
    accounts._mail = _failing_mail
    with pytest.raises(RuntimeError):
        await accounts.resend_verification(caller, svc.ResendVerificationEmailRequest(user_id="me"))
    uid = uuid.UUID(user.user_id)
    assert await _scalar(wired, "SELECT count(*) FROM identity.account_tokens WHERE user_id = :u", u=uid) == 1
    assert (
        await _scalar(
            wired, "SELECT count(*) FROM audit.events WHERE subject = 'users/' || CAST(:u AS text)", u=uid
        )
        == 0
    )
    # The first code was not superseded by the rolled-back resend.
    verified = await wired.accounts.verify_email(caller, svc.VerifyEmailRequest(user_id="me", code=first))
    assert verified.user.email_verified


async def test_without_redis_a_reset_is_refused_and_nothing_changes(wired: Wired) -> None:
    email = _email()
    user = (await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))).user
    await wired.accounts.request_password_reset(email, None)
    await wired.accounts.drain()
    token = (await mail_queue.latest_mail(wired.engine, email, "password_reset"))["token"]
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        _, accounts = build_all_usecases(
            wired.settings, wired.sessions, dead, KeyStore.open(wired.settings.identity.keys_dir)
        )
        with pytest.raises(Unavailable) as refused:
            await accounts.reset_password(token, NEW_PASSWORD)
        assert refused.value.reason == "REVOCATION_UNAVAILABLE"
        with pytest.raises(GxError) as unlimited:
            await accounts.request_password_reset(email, "192.0.2.7")
        assert unlimited.value.reason == "PASSWORD_RESET_UNAVAILABLE"  # no unlimited mail either
    finally:
        await dead.aclose()
    uid = uuid.UUID(user.user_id)
    assert await mail_queue.mail_count(wired.engine, email, "password_changed") == 0
    assert (
        await _scalar(
            wired,
            "SELECT count(*) FROM audit.events WHERE subject = 'users/' || CAST(:u AS text) AND action = 'PASSWORD_RESET'",
            u=uid,
        )
        == 0
    )
    await wired.usecases.login(email, PASSWORD, None)  # the old password still works
    await wired.accounts.reset_password(token, NEW_PASSWORD)  # and the token is still live
    await wired.usecases.login(email, NEW_PASSWORD, None)
