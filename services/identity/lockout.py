"""Failed-login counters in Redis that lock an account or a client address for a while."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

# INCR and set the expiry only when the window starts, atomically. (EXPIRE ... NX needs
# Redis 7; the dev stack's server is 6.2, so a script does it on either.)
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures lock what, for how long.

    Attributes:
        account_limit: Failed logins per account within the window before it locks.
        ip_limit: Failed logins per client address within the window before it locks.
            Higher than the account limit: many people can share one address (NAT).
        window_seconds: How long failures are remembered, and so how long a lock lasts.
    """

    account_limit: int = 5
    ip_limit: int = 20
    window_seconds: int = 900


@dataclass(frozen=True)
class Lock:
    """A lock in force.

    Attributes:
        scope: `ACCOUNT` or `CLIENT`.
        retry_after_seconds: When the caller may try again.
    """

    scope: str
    retry_after_seconds: int


def _account_key(email: str) -> str:
    # Hashed so Redis never holds email addresses in clear.
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return f"gx:identity:login-fail:acct:{digest}"


def _ip_key(ip: str) -> str:
    return f"gx:identity:login-fail:ip:{ip}"


class LoginLockout:
    """Counts failed logins per account and per client address in Redis.

    The account counter is keyed by the email as typed (lower-cased), whether or not the
    account exists, so a lock does not reveal which emails are registered.
    """

    def __init__(self, redis: Redis, policy: LockoutPolicy) -> None:
        """Builds the counters.

        Args:
            redis: An asyncio Redis client.
            policy: The limits and window.
        """
        self._redis = redis
        self._policy = policy
        self._hit = redis.register_script(_HIT)

    async def check(self, email: str, ip: str | None) -> Lock | None:
        """Says whether a login attempt is locked out, before any password work is done.

        Args:
            email: The email presented.
            ip: The client address, if known.

        Returns:
            The lock in force, or None.
        """
        keys = [_account_key(email)] + ([_ip_key(ip)] if ip else [])
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.pttl(key)
            values = await pipe.execute()
        acct_count, acct_ttl = int(values[0] or 0), int(values[1])
        if acct_count >= self._policy.account_limit:
            return Lock("ACCOUNT", _seconds(acct_ttl, self._policy.window_seconds))
        if ip:
            ip_count, ip_ttl = int(values[2] or 0), int(values[3])
            if ip_count >= self._policy.ip_limit:
                return Lock("CLIENT", _seconds(ip_ttl, self._policy.window_seconds))
        return None

    async def record_failure(self, email: str, ip: str | None) -> None:
        """Counts one failed login against the account and the address."""
        window_ms = self._policy.window_seconds * 1000
        await self._hit(keys=[_account_key(email)], args=[window_ms])
        if ip:
            await self._hit(keys=[_ip_key(ip)], args=[window_ms])

    async def record_success(self, email: str) -> None:
        """Clears the account's failures. The address counter is left alone: one good
        password must not reset a sweep over many accounts from the same address."""
        await self._redis.delete(_account_key(email))


def _seconds(pttl_ms: int, fallback: int) -> int:
    # PTTL is -1/-2 when the key has no expiry or vanished in between; fall back to the window.
    return max(1, (pttl_ms + 999) // 1000) if pttl_ms > 0 else fallback
