"""The redis.asyncio client factory and its readiness check."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from services.common.settings import RedisSettings


def create_redis(settings: RedisSettings) -> aioredis.Redis:
    """Create the process's one client over a bounded pool; the caller closes it (and the pool).

    The pool BLOCKS (up to `pool_timeout`) when every connection is busy instead of raising at
    once: a burst larger than the pool then queues for a few milliseconds rather than failing
    rate limits, deny-list checks and idempotency locks (which fail closed) with 503s.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.url.get_secret_value(),
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.socket_timeout,
        max_connections=settings.max_connections,
        timeout=settings.pool_timeout,
        health_check_interval=30,
    )
    return aioredis.Redis.from_pool(pool)


@contextlib.asynccontextmanager
async def open_redis(settings: RedisSettings) -> AsyncIterator[aioredis.Redis]:
    """A client for the life of the block, closed on exit."""
    client = create_redis(settings)
    try:
        yield client
    finally:
        await client.aclose()


async def check_redis(client: aioredis.Redis) -> None:
    """Readiness: PING; raises when Redis is unreachable."""
    if not await client.ping():
        raise ConnectionError("redis did not answer PING")
