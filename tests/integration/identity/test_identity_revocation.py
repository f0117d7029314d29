"""Freeze, role changes and logout write the access-token deny-list (real PostgreSQL and Redis).

A second RevocationList over the same Redis plays "another service": what it answers is what
every service's auth interceptor answers once its 1 s cache has passed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from gx.identity.v1 import identity_service_pb2 as svc
from redis.asyncio import Redis
from sqlalchemy import text

from services.common.errors import GxError, Unavailable
from services.common.revocation import RevocationList
from services.identity.keys import KeyStore
from services.identity.server import build_usecases
from services.identity.usecases import Caller
from tests.integration.identity.conftest import Wired

PASSWORD = "Correct horse 42 battery"
ADMIN = Caller(str(uuid.uuid4()), frozenset({"USER", "ADMIN"}))
ROOT = Caller(str(uuid.uuid4()), frozenset({"USER", "ADMIN", "SUPER_ADMIN"}))


@pytest.fixture
async def other_service(wired: Wired) -> AsyncIterator[RevocationList]:
    # No cache: these tests look at what Redis holds, not at the cache's age.
    yield RevocationList(wired.redis, cache_seconds=0)


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def _user(wired: Wired) -> tuple[str, str]:
    email = f"rev-{uuid.uuid4().hex[:12]}@example.com"
    user = await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))
    return user.user.user_id, email


async def test_freeze_revokes_earlier_tokens_and_a_login_after_unfreeze_works(
    wired: Wired, other_service: RevocationList
) -> None:
    user_id, email = await _user(wired)
    first = await wired.usecases.login(email, PASSWORD, None)
    second = await wired.usecases.login(email, PASSWORD, None)
    assert not await other_service.is_revoked(_claims(first.access_token))
    await wired.usecases.freeze(ADMIN, svc.FreezeUserRequest(user_id=user_id, reason="fraud check"))
    assert await other_service.is_revoked(_claims(first.access_token))
    assert await other_service.is_revoked(_claims(second.access_token))
    await wired.usecases.unfreeze(ADMIN, svc.UnfreezeUserRequest(user_id=user_id))
    # Immediately after: no waiting for the next second, the new token is not caught.
    fresh = await wired.usecases.login(email, PASSWORD, None)
    assert not await other_service.is_revoked(_claims(fresh.access_token))
    assert await other_service.is_revoked(_claims(first.access_token))


async def test_a_role_change_revokes_tokens_with_the_old_roles_and_a_refresh_gets_the_new_ones(
    wired: Wired, other_service: RevocationList
) -> None:
    user_id, email = await _user(wired)
    before = await wired.usecases.login(email, PASSWORD, None)
    await wired.usecases.set_roles(ROOT, svc.SetUserRolesRequest(user_id=user_id, roles=[2]))  # ROLE_ADMIN
    assert await other_service.is_revoked(_claims(before.access_token))
    refreshed = await wired.usecases.refresh(before.refresh_token)
    claims = _claims(refreshed.access_token)
    assert "ADMIN" in claims["roles"] and not await other_service.is_revoked(claims)
    # Setting the same roles again changes nothing and revokes nothing.
    await wired.usecases.set_roles(ROOT, svc.SetUserRolesRequest(user_id=user_id, roles=[2]))
    assert not await other_service.is_revoked(claims)


async def test_logout_ends_the_sessions_tokens_and_the_presented_one_but_not_other_sessions(
    wired: Wired, other_service: RevocationList
) -> None:
    user_id, email = await _user(wired)
    phone = await wired.usecases.login(email, PASSWORD, None)
    phone_later = await wired.usecases.refresh(phone.refresh_token)  # same session, newer token
    laptop = await wired.usecases.login(email, PASSWORD, None)
    await wired.usecases.logout(
        phone_later.refresh_token, (user_id, _claims(phone_later.access_token)["jti"])
    )
    assert await other_service.is_revoked(_claims(phone.access_token))  # by sid
    assert await other_service.is_revoked(_claims(phone_later.access_token))  # by sid and jti
    assert not await other_service.is_revoked(_claims(laptop.access_token))
    # Logging out twice (a retry) succeeds and keeps them revoked.
    await wired.usecases.logout(phone_later.refresh_token, None)
    assert await other_service.is_revoked(_claims(phone.access_token))


async def test_without_redis_a_freeze_is_refused_and_nothing_changes(wired: Wired) -> None:
    user_id, _ = await _user(wired)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        usecases = build_usecases(
            wired.settings, wired.sessions, dead, KeyStore.open(wired.settings.identity.keys_dir)
        )
        with pytest.raises(Unavailable) as refused:
            await usecases.freeze(ADMIN, svc.FreezeUserRequest(user_id=user_id, reason="x"))
        assert refused.value.reason == "REVOCATION_UNAVAILABLE"
        with pytest.raises(GxError) as login:
            await usecases.login("anyone@example.com", PASSWORD, None)
        assert login.value.reason == "LOGIN_UNAVAILABLE"  # no unthrottled guessing either
    finally:
        await dead.aclose()
    async with wired.engine.connect() as conn:
        frozen = (
            await conn.execute(
                text("SELECT frozen FROM identity.users WHERE id = :u"), {"u": uuid.UUID(user_id)}
            )
        ).scalar_one()
        audits = (
            await conn.execute(
                text("SELECT count(*) FROM audit.events WHERE subject = 'users/' || CAST(:u AS text)"),
                {"u": uuid.UUID(user_id)},
            )
        ).scalar_one()
    assert frozen is False and audits == 0
