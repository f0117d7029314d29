"""Login throttling against a real Redis: counted before verifying, growing delays, address limit."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest
from redis.asyncio import Redis

from services.identity.lockout import LockoutPolicy, LoginLockout


def _email() -> str:
    return f"{uuid.uuid4().hex}@example.com"


def _ip() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


async def test_forty_concurrent_attempts_on_one_account_admit_only_the_free_ones(redis: Redis) -> None:
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=5, ip_limit=1000, window_seconds=60))
    email = _email()
    verdicts = await asyncio.gather(*(lockout.admit(email, f"10.0.{i}.1") for i in range(40)))
    admitted = [v for v in verdicts if v is None]
    assert len(admitted) == 5
    refused = [v for v in verdicts if v is not None]
    assert {v.scope for v in refused} == {"ACCOUNT"}
    assert all(v.retry_after_seconds == 1 for v in refused)  # the first delay: 1 s, not 15 min


async def test_delays_grow_and_a_refused_attempt_does_not_extend_them(redis: Redis) -> None:
    policy = LockoutPolicy(
        account_limit=2, ip_limit=1000, window_seconds=60, delay_base_seconds=1, delay_max_seconds=4
    )
    lockout = LoginLockout(redis, policy)
    email = _email()
    assert await lockout.admit(email, None) is None
    assert await lockout.admit(email, None) is None  # the 2nd attempt sets a 1 s delay
    first = await lockout.admit(email, None)
    assert first is not None and first.retry_after_seconds == 1
    # Wait the delay out on Redis's own clock by polling (bounded), not by asserting timing.
    for _ in range(40):
        if await lockout.admit(email, None) is None:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the 1 s delay never ended")
    # That 3rd attempt set the next delay: 2 s, then 4 s, capped at 4 s.
    second = await lockout.admit(email, None)
    assert second is not None and second.retry_after_seconds == 2
    assert [policy.delay_after(n) for n in range(1, 7)] == [0, 1, 2, 4, 4, 4]


async def test_success_resets_the_account(redis: Redis) -> None:
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=2, ip_limit=1000, window_seconds=60))
    email, ip = _email(), _ip()
    assert await lockout.admit(email, ip) is None
    assert await lockout.admit(email, ip) is None
    assert await lockout.admit(email, ip) is not None
    await lockout.record_success(email, ip)
    assert await lockout.admit(email.upper(), ip) is None  # the email is matched case-insensitively


async def test_the_address_limit_holds_across_accounts_and_a_success_refunds_only_itself(
    redis: Redis,
) -> None:
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=100, ip_limit=4, window_seconds=60))
    ip = _ip()
    for _ in range(3):
        assert await lockout.admit(_email(), ip) is None  # three failures from one address
    mine = _email()
    assert await lockout.admit(mine, ip) is None
    await lockout.record_success(mine, ip)  # a good password gives back its own attempt only
    assert await lockout.admit(_email(), ip) is None  # the 4th failure
    lock = await lockout.admit(_email(), ip)
    assert lock is not None and lock.scope == "CLIENT" and 1 <= lock.retry_after_seconds <= 60
    # Another address is not affected.
    assert await lockout.admit(_email(), _ip()) is None


async def test_concurrent_sweep_from_one_address_never_passes_the_address_limit(redis: Redis) -> None:
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=100, ip_limit=7, window_seconds=60))
    ip = _ip()
    verdicts = await asyncio.gather(*(lockout.admit(_email(), ip) for _ in range(50)))
    assert sum(v is None for v in verdicts) == 7


async def test_an_attempt_the_account_refuses_is_given_back_to_the_address(redis: Redis) -> None:
    # Hammering one throttled account must not use up the address for the other people behind it.
    lockout = LoginLockout(redis, LockoutPolicy(account_limit=1, ip_limit=3, window_seconds=60))
    ip, victim = _ip(), _email()
    assert await lockout.admit(victim, ip) is None
    for _ in range(10):
        lock = await lockout.admit(victim, ip)
        assert lock is not None and lock.scope == "ACCOUNT"
    assert await lockout.admit(_email(), ip) is None
    assert await lockout.admit(_email(), ip) is None


async def test_emails_are_stored_hashed_and_records_expire(redis: Redis) -> None:
    lockout = LoginLockout(
        redis, LockoutPolicy(account_limit=1, ip_limit=10, window_seconds=1, delay_max_seconds=1)
    )
    email = _email()
    assert await lockout.admit(email, None) is None
    keys = [k.decode() async for k in redis.scan_iter(match="gx:identity:login:acct:*")]
    assert keys and all(email not in k for k in keys)
    mine = "gx:identity:login:acct:" + hashlib.sha256(email.encode()).hexdigest()
    assert mine in keys
    assert 0 < await redis.pttl(mine) <= 1000  # the record forgets itself after the window


def test_a_policy_whose_window_is_shorter_than_its_delays_is_refused() -> None:
    with pytest.raises(ValueError):
        LockoutPolicy(window_seconds=30, delay_max_seconds=60)
