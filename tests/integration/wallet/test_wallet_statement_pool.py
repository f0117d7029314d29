"""The wallet's statement pool serves as many accepts at once as the benchmark keeps in flight (16).

A transfer accept holds its pooled connection across its two round trips and the checks between
them; a pool smaller than the calls in flight makes the rest queue for a connection.
"""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from services.common.settings import DatabaseSettings
from services.wallet.server import STATEMENT_POOL_SIZE, open_statement_pool
from services.wallet.settings import WalletSettings

IN_FLIGHT = 16


async def test_sixteen_accepts_hold_a_connection_each_at_the_same_time(database_url: str) -> None:
    # A short checkout timeout: with fewer connections than holders the last ones time out
    # (PoolTimeout) instead of waiting for a connection that is never given back.
    settings = WalletSettings(database=DatabaseSettings(url=SecretStr(database_url), pool_timeout=3.0))
    inside = 0
    all_in = asyncio.Event()
    async with open_statement_pool(settings) as pool:

        async def accept() -> int:
            nonlocal inside
            async with pool.connection() as conn:
                inside += 1
                if inside == IN_FLIGHT:
                    all_in.set()
                await all_in.wait()  # every holder keeps its connection until all hold one
                cursor = await conn.execute("SELECT pg_backend_pid()")
                row = await cursor.fetchone()
                assert row is not None
                return int(row[0])

        backends = await asyncio.gather(*(accept() for _ in range(IN_FLIGHT)))
    assert STATEMENT_POOL_SIZE >= IN_FLIGHT and len(set(backends)) == IN_FLIGHT
