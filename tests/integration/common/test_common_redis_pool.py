"""The runtime's Redis client: a burst larger than the pool waits for a connection instead of failing."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr
from redis.exceptions import ConnectionError as RedisConnectionError

from services.common.redis import open_redis
from services.common.settings import RedisSettings


async def test_a_burst_larger_than_the_pool_queues_and_every_call_succeeds(redis_url: str) -> None:
    settings = RedisSettings(url=SecretStr(redis_url), max_connections=2, pool_timeout=5.0)
    async with open_redis(settings) as client:
        # 40 round trips at once over 2 connections: a non-blocking pool raises
        # "Too many connections" for the 3rd; deny-list checks and locks would then fail closed.
        answers = await asyncio.gather(*(client.incr("gx:test:pool-burst") for _ in range(40)))
        assert sorted(answers)[-1] - sorted(answers)[0] == 39
        await client.delete("gx:test:pool-burst")


async def test_a_pool_held_busy_past_its_timeout_fails_like_an_unreachable_redis(redis_url: str) -> None:
    settings = RedisSettings(
        url=SecretStr(redis_url), max_connections=1, pool_timeout=0.2, socket_timeout=5.0
    )
    async with open_redis(settings) as client:
        # BLPOP holds the only connection for 1 s; the next call gives up after the pool timeout
        # with a ConnectionError, which every caller already treats as "Redis down".
        held = asyncio.create_task(client.blpop(["gx:test:never"], timeout=1))
        await asyncio.sleep(0.05)
        with pytest.raises(RedisConnectionError):
            await client.ping()
        await held
