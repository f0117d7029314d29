"""Failed-login lockout counters against a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.identity.lockout import LockoutPolicy, LoginLockout


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def _email() -> str:
    return f"{uuid.uuid4().hex}@example.com"


async def test_account_locks_after_the_limit_whatever_the_address(redis: Redis) -> None:
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=3, ip_limit=100, window_seconds=60))
    email = _email()
    for i in range(3):
        assert await lockout.check(email, f"10.0.0.{i}") is None
        await lockout.record_failure(email, f"10.0.0.{i}")
    lock = await lockout.check(email.upper(), "10.9.9.9")
    assert lock is not None and lock.scope == "ACCOUNT"
    assert 1 <= lock.retry_after_seconds <= 60


async def test_address_locks_after_failures_across_accounts(redis: Redis) -> None:
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=100, ip_limit=4, window_seconds=60))
    for _ in range(4):
        await lockout.record_failure(_email(), ip)
    lock = await lockout.check(_email(), ip)
    assert lock is not None and lock.scope == "CLIENT"
    assert await lockout.check(_email(), "10.255.255.1") is None


async def test_success_clears_the_account_counter_only(redis: Redis) -> None:
    ip = f"10.1.{uuid.uuid4().int % 250}.9"
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=2, ip_limit=3, window_seconds=60))
    email = _email()
    await lockout.record_failure(email, ip)
    await lockout.record_success(email)
    await lockout.record_failure(email, ip)
    assert await lockout.check(email, None) is None  # 1 failure since the success
    await lockout.record_failure(email, ip)
    lock = await lockout.check(email, ip)
    assert lock is not None and lock.scope == "ACCOUNT"  # the IP counter reached 3 too, account is reported first


async def test_window_expiry_is_set_once_and_unlocks(redis: Redis) -> None:
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=1, ip_limit=10, window_seconds=1))
    email = _email()
    await lockout.record_failure(email, None)
    assert await lockout.check(email, None) is not None
    keys = [k async for k in redis.scan_iter(match="gx:identity:login-fail:acct:*")]
    assert keys and all(email not in k.decode() for k in keys), "emails are stored hashed"
    # Wait on the key's real expiry rather than a wall-clock sleep assertion.
    import asyncio

    for _ in range(40):
        if await lockout.check(email, None) is None:
            break
        await asyncio.sleep(0.1)
    assert await lockout.check(email, None) is None
