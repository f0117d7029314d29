"""API keys' last-used times: noted in Redis per minute, written to PostgreSQL in batches.

An accepted key must not cost a database write per request (the edge checks keys on every
call). `touch` keeps the newest minute per key in one Redis hash, and at most once a minute
per key and process (a local memo). `LastUsedFlusher` moves the hash into
`licensing.api_keys.last_used_at` every few seconds with one UPDATE; reads merge what is
still waiting in Redis, so a key's last use is visible at once.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.licensing import repository
from services.licensing.batches import Periodic, drain_hash

_log = logging.getLogger("gx.licensing.lastused")
HASH_KEY: Final = "licensing:api_key_last_used"
# Keeps the larger value: two replicas touching one key never move it back.
_TOUCH: Final = (
    "local old = tonumber(redis.call('hget', KEYS[1], ARGV[1]) or '0')"
    " if tonumber(ARGV[2]) > old then redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) end return 0"
)


def _minute(when: datetime) -> int:
    return int(when.timestamp()) // 60 * 60


class LastUsed:
    """Notes and reads pending last-used times in Redis."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._memo: dict[str, int] = {}

    async def touch(self, key_id: str, when: datetime) -> None:
        """Note that a key was accepted at `when` (kept to the minute)."""
        minute = _minute(when)
        if self._memo.get(key_id, -1) >= minute:
            return
        await self._redis.eval(_TOUCH, 1, HASH_KEY, key_id, str(minute))
        self._memo[key_id] = minute
        if len(self._memo) > 100_000:
            self._memo.clear()

    async def pending(self, key_ids: Iterable[str]) -> dict[str, datetime]:
        """Times noted but not yet flushed, for these keys; empty when Redis cannot say."""
        ids = list(key_ids)
        if not ids:
            return {}
        try:
            values = await self._redis.hmget(HASH_KEY, ids)
        except RedisError as exc:
            _log.warning("pending last-used times unreadable: %s", exc)
            return {}
        return {
            k: datetime.fromtimestamp(int(v), UTC) for k, v in zip(ids, values, strict=True) if v is not None
        }

    async def drain(self) -> dict[uuid.UUID, datetime]:
        """Take every pending time out of Redis."""
        return {
            uuid.UUID(k): datetime.fromtimestamp(int(v), UTC)
            for k, v in (await drain_hash(self._redis, HASH_KEY)).items()
        }

    async def restore(self, used: dict[uuid.UUID, datetime]) -> None:
        """Put times back after a failed flush (max-merged with newer touches)."""
        for key_id, when in used.items():
            await self._redis.eval(_TOUCH, 1, HASH_KEY, str(key_id), str(_minute(when)))


class LastUsedFlusher:
    """Writes pending last-used times to PostgreSQL every `interval` seconds, and once more on stop."""

    def __init__(
        self, last_used: LastUsed, sessions: async_sessionmaker[AsyncSession], interval: float
    ) -> None:
        self._last_used = last_used
        self._sessions = sessions
        self._loop = Periodic("licensing-last-used-flush", self.flush, interval)

    async def flush(self) -> int:
        """One batch now; returns how many keys moved forward. Failures keep the times in Redis."""
        try:
            used = await self._last_used.drain()
        except RedisError as exc:
            _log.warning("last-used flush skipped, Redis unavailable: %s", exc)
            return 0
        if not used:
            return 0
        try:
            async with self._sessions.begin() as session:
                return await repository.write_last_used(session, used)
        except SQLAlchemyError as exc:
            _log.warning("last-used flush failed, kept for the next round: %s", exc)
            with contextlib.suppress(RedisError):
                await self._last_used.restore(used)
            return 0

    def start(self) -> None:
        """Start the periodic flush."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop and flush what is left (idempotent)."""
        await self._loop.stop()
