"""Exact request and throttle counts: from the authorisation decisions in Redis to `licensing.usage_minutes` in batches.

`limiter.QuotaLimiter` counts every decision into one Redis hash (`<licence>|<minute>|r` served,
`…|t` throttled) in the same script that decides it; the edge's access log (accesslog.py) adds
`…|e` (served requests that ended 4xx/5xx) and `…|b` (request and response bytes). `UsageFlusher` takes the hash at once
every few seconds and adds it to the per-minute rows in one statement, so usage is visible
within `usage_flush_seconds` plus a read. If PostgreSQL refuses, the counts go back into Redis
and the next round retries them; what only PostgreSQL's commit reply can tell (a connection cut
during COMMIT) is the one window where a batch could count twice or not at all.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import defaultdict
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.licensing.batches import Periodic, drain_hash
from services.licensing.limiter import USAGE_KEY

_log = logging.getLogger("gx.licensing.metering")

_UPSERT = text(
    "INSERT INTO licensing.usage_minutes (license_id, minute, request_count, throttled_count, error_count, byte_count)"
    " SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:minutes AS timestamptz[]), CAST(:served AS bigint[]),"
    " CAST(:throttled AS bigint[]), CAST(:errors AS bigint[]), CAST(:bytes AS bigint[]))"
    " ON CONFLICT (license_id, minute) DO UPDATE SET"
    " request_count = licensing.usage_minutes.request_count + EXCLUDED.request_count,"
    " throttled_count = licensing.usage_minutes.throttled_count + EXCLUDED.throttled_count,"
    " error_count = licensing.usage_minutes.error_count + EXCLUDED.error_count,"
    " byte_count = licensing.usage_minutes.byte_count + EXCLUDED.byte_count"
)


# The counter kinds in the pending hash, by their place in a row.
_COLUMN = {"r": 0, "t": 1, "e": 2, "b": 3}


class UsageFlusher:
    """Adds the counted decisions to PostgreSQL every `interval` seconds, and once more on stop."""

    def __init__(self, redis: Redis, sessions: async_sessionmaker[AsyncSession], interval: float) -> None:
        self._redis = redis
        self._sessions = sessions
        self._loop = Periodic("licensing-usage-flush", self.flush, interval)

    async def flush(self) -> int:
        """One batch now; returns how many licence-minutes were written."""
        try:
            pending = await drain_hash(self._redis, USAGE_KEY)
        except RedisError as exc:
            _log.warning("usage flush skipped, Redis unavailable: %s", exc)
            return 0
        if not pending:
            return 0
        rows: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for field, count in pending.items():
            license_id, minute, kind = field.split("|")
            if kind not in _COLUMN:
                _log.warning("unknown usage counter %r dropped", field)
                continue
            rows[(license_id, int(minute))][_COLUMN[kind]] += int(count)
        params = {
            "ids": [uuid.UUID(k[0]) for k in rows],
            "minutes": [datetime.fromtimestamp(k[1], UTC) for k in rows],
            "served": [v[0] for v in rows.values()],
            "throttled": [v[1] for v in rows.values()],
            "errors": [v[2] for v in rows.values()],
            "bytes": [v[3] for v in rows.values()],
        }
        try:
            async with self._sessions.begin() as session:
                await session.execute(_UPSERT, params)
        except SQLAlchemyError as exc:
            _log.warning("usage flush failed, kept for the next round: %s", exc)
            with contextlib.suppress(RedisError):
                for field, count in pending.items():
                    await self._redis.hincrby(USAGE_KEY, field, int(count))
            return 0
        return len(rows)

    def start(self) -> None:
        """Start the periodic flush."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop and flush what is left (idempotent)."""
        await self._loop.stop()
