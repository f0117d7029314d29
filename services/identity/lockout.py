"""Login throttling in Redis: growing delays per account, a hard limit per client address.

Every attempt is counted BEFORE its password is verified, by one atomic Redis script per key,
so concurrent attempts cannot all slip past a check that only later counts failures (40
concurrent wrong passwords used to be verified 40 times against a limit of 5).

Per account the answer is a delay, not a lock: the first `free_attempts` go through at once,
then each further attempt must wait 1, 2, 4 … seconds (capped) after the previous one. Five
wrong guesses by someone else therefore cost the owner one second, not fifteen minutes,
while a guesser gets only a handful of tries per window. Per client address there is a hard
limit, because many accounts guessed from one address is a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

from services.identity.limits import FIXED_WINDOW_HIT, hashed

# Admits an attempt on an account when its delay has passed, and counts it at once.
# KEYS[1]: the account's hash {n: attempts since the last success, next: earliest next
# attempt in ms}. ARGV: free attempts, base delay ms, max delay ms, memory ms.
# Redis's own clock (TIME) decides, so every identity replica agrees. Returns
# {1, delay set} when admitted, {0, ms to wait} when refused.
_ACCOUNT_ADMIT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'n', 'next')
local n = tonumber(state[1] or '0')
local next_at = tonumber(state[2] or '0')
if now < next_at then
  return {0, next_at - now}
end
n = n + 1
local free = tonumber(ARGV[1])
local delay = 0
if n >= free then
  delay = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * math.pow(2, math.min(n - free, 40)))
end
redis.call('HSET', KEYS[1], 'n', n, 'next', string.format('%d', now + delay))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, delay}
"""


# Gives one counted attempt back (a correct password, or an attempt the account refused).
# Never below zero, and never on a vanished key: DECR would create it without an expiry.
_ADDRESS_REFUND: Final = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class LockoutPolicy:
    """How attempts are throttled.

    Attributes:
        account_limit: Attempts per account that go through without any delay.
        ip_limit: Failed attempts per client address within the window; then the address
            is refused until the window ends. Higher than the account's: many people can
            share one address (NAT).
        window_seconds: How long an account's attempts and an address's failures are
            remembered (since the account's last attempt; since the address's first).
        delay_base_seconds: The first delay once the free attempts are used; it doubles
            with each further attempt.
        delay_max_seconds: The cap of the delay.
    """

    account_limit: int = 5
    ip_limit: int = 20
    window_seconds: int = 900
    delay_base_seconds: float = 1.0
    delay_max_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.account_limit < 1 or self.ip_limit < 1 or self.delay_base_seconds <= 0:
            raise ValueError("lockout limits and the base delay must be positive")
        if self.delay_max_seconds < self.delay_base_seconds or self.window_seconds < self.delay_max_seconds:
            # The account's record must outlive its longest delay, or the delay would vanish.
            raise ValueError("lockout: need delay_base <= delay_max <= window")

    def delay_after(self, attempts: int) -> float:
        """Seconds the next attempt must wait after `attempts` attempts since the last success
        (the same rule as the Redis script, for documentation and tests)."""
        if attempts < self.account_limit:
            return 0.0
        return float(
            min(self.delay_max_seconds, self.delay_base_seconds * 2 ** min(attempts - self.account_limit, 40))
        )


@dataclass(frozen=True)
class Lock:
    """An attempt refused before any password work.

    Attributes:
        scope: `ACCOUNT` (inside the account's delay) or `CLIENT` (the address's limit).
        retry_after_seconds: When the caller may try again (whole seconds, at least 1).
    """

    scope: str
    retry_after_seconds: int


def _account_key(email: str) -> str:
    return f"gx:identity:login:acct:{hashed(email)}"


def _ip_key(ip: str) -> str:
    return f"gx:identity:login:ip:{ip}"


class LoginLockout:
    """Admits or refuses login attempts before their passwords are verified.

    The account key is the email as typed (lower-cased), whether or not the account exists,
    so throttling does not reveal which emails are registered.
    """

    def __init__(self, redis: Redis, policy: LockoutPolicy) -> None:
        """Builds the throttle.

        Args:
            redis: An asyncio Redis client.
            policy: The limits and delays.
        """
        self._redis = redis
        self._policy = policy
        self._account_admit = redis.register_script(_ACCOUNT_ADMIT)
        self._address_admit = redis.register_script(FIXED_WINDOW_HIT)  # an address's attempts: a fixed window
        self._address_refund = redis.register_script(_ADDRESS_REFUND)

    @property
    def policy(self) -> LockoutPolicy:
        """The limits in force."""
        return self._policy

    async def admit(self, email: str, ip: str | None) -> Lock | None:
        """Counts an attempt, or refuses it; call before verifying the password.

        The address is asked first (a sweep is refused before it touches any account); an
        attempt the account then refuses is given back to the address, since nothing was
        verified. Each step is one atomic script on one key, so this also holds on a Redis
        Cluster, where a script may not span keys of different slots.

        Args:
            email: The email presented.
            ip: The client address, if known.

        Returns:
            None when the attempt may verify the password, else the lock in force.
        """
        window_ms = self._policy.window_seconds * 1000
        if ip:
            ok, wait_ms = await self._address_admit(
                keys=[_ip_key(ip)], args=[self._policy.ip_limit, window_ms]
            )
            if not int(ok):
                return Lock("CLIENT", _seconds(int(wait_ms), self._policy.window_seconds))
        ok, wait_ms = await self._account_admit(
            keys=[_account_key(email)],
            args=[
                self._policy.account_limit,
                int(self._policy.delay_base_seconds * 1000),
                int(self._policy.delay_max_seconds * 1000),
                window_ms,
            ],
        )
        if not int(ok):
            if ip:
                await self._address_refund(keys=[_ip_key(ip)])
            return Lock("ACCOUNT", _seconds(int(wait_ms), self._policy.window_seconds))
        return None

    async def record_success(self, email: str, ip: str | None) -> None:
        """A correct password: the account starts afresh, and the address gets this one
        attempt back (only this one: a good password must not reset a sweep over many
        accounts from the same address)."""
        await self._redis.delete(_account_key(email))
        if ip:
            await self._address_refund(keys=[_ip_key(ip)])


def _seconds(wait_ms: int, fallback: int) -> int:
    # PTTL answers -1/-2 when the key has no expiry or vanished in between; fall back to the window.
    return max(1, (wait_ms + 999) // 1000) if wait_ms > 0 else fallback
