"""CoalescedNotify's batching logic: a NOTIFY starts after every poke, however pokes and sends interleave.

A stand-in pool records when each NOTIFY starts; its sends take as long as the test says, so pokes
land before, during and after them. (The real PostgreSQL behaviour is in
tests/integration/common/test_common_coalesced_notify.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

from services.common.coalesced_notify import CoalescedNotify


class _Pool:
    """Hands out a connection whose execute logs the NOTIFY's start and takes `delay()` seconds."""

    def __init__(self, log: list[str], delay: Any) -> None:
        self.log = log
        self.delay = delay

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[_Pool]:
        yield self

    async def execute(self, sql: str, params: tuple[str, ...]) -> None:
        self.log.append("notify")
        await asyncio.sleep(self.delay())


def _every_poke_is_followed_by_a_notify(log: list[str]) -> bool:
    return "poke" not in log or log[::-1].index("notify") < log[::-1].index("poke")


async def test_a_poke_during_a_send_gets_a_notify_of_its_own() -> None:
    log: list[str] = []
    release = asyncio.Event()

    class Slow(_Pool):
        async def execute(self, sql: str, params: tuple[str, ...]) -> None:
            self.log.append("notify")
            await release.wait()

    notify = CoalescedNotify(Slow(log, None), "ch")  # type: ignore[arg-type]
    log.append("poke")
    notify.poke()
    await asyncio.sleep(0.01)  # the first NOTIFY is on its way
    for _ in range(3):
        log.append("poke")
        notify.poke()
    release.set()
    await notify.flush()
    assert log == ["poke", "notify", "poke", "poke", "poke", "notify"]
    assert (notify.pokes, notify.sent) == (4, 2)


async def test_random_interleavings_never_leave_a_poke_without_a_later_notify() -> None:
    rng = random.Random(20261206)
    for _ in range(40):
        log: list[str] = []
        notify = CoalescedNotify(_Pool(log, lambda: rng.random() * 0.002), "ch")  # type: ignore[arg-type]

        async def poker(count: int, log: list[str], notify: CoalescedNotify) -> None:
            for _ in range(count):
                await asyncio.sleep(rng.random() * 0.002)
                log.append("poke")
                notify.poke()

        await asyncio.gather(*(poker(rng.randint(1, 8), log, notify) for _ in range(rng.randint(1, 6))))
        await notify.flush()
        assert _every_poke_is_followed_by_a_notify(log), log
        assert notify.sent == log.count("notify") <= notify.pokes == log.count("poke")


async def test_gathering_waits_for_the_burst_before_the_first_notify() -> None:
    log: list[str] = []
    notify = CoalescedNotify(_Pool(log, lambda: 0.0), "ch", gather_seconds=0.02)  # type: ignore[arg-type]
    for _ in range(5):
        log.append("poke")
        notify.poke()
        await asyncio.sleep(0.001)
    await notify.flush()
    assert log == ["poke"] * 5 + ["notify"]
