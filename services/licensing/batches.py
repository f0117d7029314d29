"""Redis → PostgreSQL batching shared by last-used times and usage counters: take a hash at once, run a flush periodically."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from redis.asyncio import Redis

_log = logging.getLogger("gx.licensing.batches")

# Takes the whole hash and empties it in one step, so nothing added between read and delete is lost.
_DRAIN: Final = "local all = redis.call('hgetall', KEYS[1]) redis.call('del', KEYS[1]) return all"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def drain_hash(redis: Redis, key: str) -> dict[str, str]:
    """Every field of a Redis hash, removed from Redis in the same step."""
    raw = await redis.eval(_DRAIN, 1, key)
    pairs = iter(raw or [])
    return {_text(k): _text(v) for k, v in zip(pairs, pairs, strict=True)}


class Periodic:
    """Runs `flush` every `interval` seconds in the background, and once more on stop."""

    def __init__(self, name: str, flush: Callable[[], Awaitable[object]], interval: float) -> None:
        self._name = name
        self._flush = flush
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop."""
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Stop the loop and flush what is left (idempotent)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self._flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._flush()
            except Exception:
                # A loop that never dies of one bad round; the error is logged.
                _log.exception("%s failed", self._name)
