"""Fixed-window request counters in Redis, for mail-sending requests (verification resends, resets).

One atomic script per key counts the request and answers whether it is within the limit, so
concurrent requests cannot all pass a check that only later counts them. Redis's clock and
key expiry decide, so every identity replica agrees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

# KEYS[1]: the counter; ARGV: limit, window ms. Counts the request when below the limit and
# answers {1, 0}; at the limit answers {0, ms until the window ends} and counts nothing, so
# a client hammering a closed window does not push its end further away. Login throttling
# counts a client address's attempts with it too (services.identity.lockout).
FIXED_WINDOW_HIT: Final = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  return {0, redis.call('PTTL', KEYS[1])}
end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, 0}
"""

_PREFIX: Final = "gx:identity:limit:"


@dataclass(frozen=True)
class Limit:
    """At most `count` requests per `window_seconds`, counted from the window's first request."""

    count: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.count < 1 or self.window_seconds < 1:
            raise ValueError("a limit needs a positive count and window")


def hashed(value: str) -> str:
    """A key part for an email or other personal value (lower-cased): Redis never holds it in clear."""
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()


class RequestLimiter:
    """Counts requests per (scope, subject) key and refuses those over their limit."""

    def __init__(self, redis: Redis) -> None:
        """Builds the limiter.

        Args:
            redis: An asyncio Redis client.
        """
        self._hit = redis.register_script(FIXED_WINDOW_HIT)

    async def hit(self, scope: str, subject: str, limit: Limit) -> int | None:
        """Counts one request.

        Args:
            scope: What is limited (`verify-resend`, `reset-address`, `reset-email`).
            subject: Whose requests (a user id, a client address, a hashed email).
            limit: The limit in force.

        Returns:
            None when the request is within the limit, else the whole seconds (at least 1)
            until the window ends.

        Raises:
            redis.exceptions.RedisError: Redis could not be asked; the caller decides.
        """
        ok, wait_ms = await self._hit(
            keys=[f"{_PREFIX}{scope}:{subject}"], args=[limit.count, limit.window_seconds * 1000]
        )
        if int(ok):
            return None
        wait = int(wait_ms)
        # PTTL answers -1/-2 when the key has no expiry or just vanished: the window is over.
        return max(1, (wait + 999) // 1000) if wait > 0 else 1
