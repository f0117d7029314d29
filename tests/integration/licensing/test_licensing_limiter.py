"""The GCRA quota script on the real Redis: burst, refusal, per-licence isolation, counting."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from services.licensing.limiter import USAGE_KEY, QuotaLimiter


async def test_a_full_minutes_burst_then_refusal_with_retry_after(redis: Redis) -> None:
    limiter, lic = QuotaLimiter(redis), str(uuid.uuid4())
    decisions = [await limiter.take(lic, 5) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[5]
    # One request every 12 s: the next one is earned within 12 s, the whole quota within 60 s.
    assert 1 <= refused.retry_after_seconds <= 12
    assert 48 <= refused.reset_seconds <= 60
    assert refused.limit == 5


async def test_licences_do_not_share_a_quota_and_both_decisions_are_counted(redis: Redis) -> None:
    limiter, first, second = QuotaLimiter(redis), str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(3):
        await limiter.take(first, 2)
    assert (await limiter.take(second, 2)).allowed
    counts = {k.decode(): int(v) for k, v in (await redis.hgetall(USAGE_KEY)).items()}
    mine = {
        k.split("|", 2)[2] + ":" + k.split("|")[0]: v
        for k, v in counts.items()
        if k.split("|")[0] in (first, second)
    }
    assert sum(v for k, v in mine.items() if k == f"r:{first}") == 2
    assert sum(v for k, v in mine.items() if k == f"t:{first}") == 1
    assert sum(v for k, v in mine.items() if k == f"r:{second}") == 1
