"""The accept's outbox wake-up still sends its NOTIFY when the process closes right after an accept."""

from __future__ import annotations

import contextlib

import psycopg
from pydantic import SecretStr

from services.common.db import libpq_dsn, open_autocommit_pool
from services.common.names import OUTBOX_NOTIFY_CHANNEL
from services.common.settings import DatabaseSettings
from services.wallet.server import flushed_outbox_wake


async def test_a_poke_just_before_the_pool_closes_still_notifies(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(libpq_dsn(database_url), autocommit=True) as listener:
        await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")
        async with contextlib.AsyncExitStack() as stack:
            # As build() wires it: the read pool on the stack, then the wake-up.
            pool = await stack.enter_async_context(
                open_autocommit_pool(DatabaseSettings(url=SecretStr(database_url)))
            )
            wake = flushed_outbox_wake(pool, stack)
            # An accept committed a moment ago; its NOTIFY waits for the burst while the process
            # shuts down at once: without the flush the pool closes under it and nothing is sent.
            wake.poke()
        assert wake.sent == 1
        payloads = [n.payload async for n in listener.notifies(timeout=2, stop_after=1)]
    assert payloads == [""]
