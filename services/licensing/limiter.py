"""The per-licence quota (GCRA in Redis) and the exact request/throttle counts, in one round trip.

One Lua script per keyed request, shared by every edge replica through Redis:
- GCRA (the generic cell rate algorithm): a licence with quota Q per minute may make one
  request every 60/Q s on average and a burst of up to Q at once; the state is one
  "theoretical arrival time" key per licence, expiring when idle. Unlike a fixed window it has
  no double burst at a minute boundary; unlike a sliding log it stores one number.
- the decision is counted in the same script (`r` served, `t` throttled) into the pending
  usage hash that `metering.UsageFlusher` moves to PostgreSQL, so the counts are exactly the
  decisions: N served → N counted, however many replicas.
Time comes from Redis (`TIME`), so replicas with skewed clocks agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

USAGE_KEY: Final = "licensing:usage:pending"
_TAT_PREFIX: Final = "licensing:gcra:"

# KEYS[1] = the licence's TAT key, KEYS[2] = the pending usage hash
# ARGV[1] = quota per minute, ARGV[2] = licence id
# Returns {allowed (1/0), remaining, reset_ms, retry_after_ms}.
_SCRIPT: Final = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local quota = tonumber(ARGV[1])
local period = 60000
local interval = period / quota
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local minute = math.floor(now / 60000) * 60
if new_tat - now > period then
  redis.call('HINCRBY', KEYS[2], ARGV[2] .. '|' .. minute .. '|t', 1)
  local retry = math.ceil(new_tat - now - period)
  return {0, 0, math.ceil(tat - now), retry}
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
redis.call('HINCRBY', KEYS[2], ARGV[2] .. '|' .. minute .. '|r', 1)
local remaining = math.floor((period - (new_tat - now)) / interval)
return {1, remaining, math.ceil(new_tat - now), 0}
"""


@dataclass(frozen=True)
class Decision:
    """One quota decision.

    Attributes:
        allowed: Whether the request may go through.
        limit: The quota per minute in force.
        remaining: Requests that would still be allowed right now.
        reset_seconds: Seconds until the quota is fully available again (RateLimit-Reset).
        retry_after_seconds: When refused, seconds until one request is allowed (Retry-After).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after_seconds: int


class QuotaLimiter:
    """Takes one request from a licence's quota, or refuses it, and counts the decision."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_SCRIPT)

    async def take(self, license_id: str, quota_per_minute: int) -> Decision:
        """Decide one request of `license_id` (raises RedisError when Redis is down: fail closed)."""
        allowed, remaining, reset_ms, retry_ms = await self._script(
            keys=[_TAT_PREFIX + license_id, USAGE_KEY], args=[quota_per_minute, license_id]
        )
        return Decision(
            allowed=bool(allowed),
            limit=quota_per_minute,
            remaining=int(remaining),
            reset_seconds=-(-int(reset_ms) // 1000),
            retry_after_seconds=max(1, -(-int(retry_ms) // 1000)) if not allowed else 0,
        )
