"""The mail-request limiter over real Redis: a fixed window counted atomically."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from services.identity.limits import Limit, RequestLimiter, hashed


async def test_requests_over_the_limit_are_refused_until_the_window_ends(redis: Redis) -> None:
    limiter = RequestLimiter(redis)
    subject = str(uuid.uuid4())
    limit = Limit(3, 60)
    assert [await limiter.hit("test", subject, limit) for _ in range(3)] == [None, None, None]
    wait = await limiter.hit("test", subject, limit)
    assert wait is not None and 1 <= wait <= 60
    # Another subject or scope has its own window.
    assert await limiter.hit("test", str(uuid.uuid4()), limit) is None
    assert await limiter.hit("other", subject, limit) is None


async def test_concurrent_requests_never_pass_the_limit(redis: Redis) -> None:
    limiter = RequestLimiter(redis)
    subject = str(uuid.uuid4())
    answers = await asyncio.gather(*(limiter.hit("test", subject, Limit(5, 60)) for _ in range(40)))
    assert sum(a is None for a in answers) == 5


async def test_refused_requests_do_not_extend_the_window(redis: Redis) -> None:
    limiter = RequestLimiter(redis)
    subject = str(uuid.uuid4())
    await limiter.hit("test", subject, Limit(1, 60))
    ttl_before = await redis.pttl(f"gx:identity:limit:test:{subject}")
    for _ in range(5):
        assert await limiter.hit("test", subject, Limit(1, 60)) is not None
    assert await redis.pttl(f"gx:identity:limit:test:{subject}") <= ttl_before


def test_emails_are_keyed_by_hash_ignoring_case() -> None:
    assert hashed(" Ana@Example.com ") == hashed("ana@example.com")
    assert "ana" not in hashed("ana@example.com")
