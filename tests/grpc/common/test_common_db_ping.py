"""The engine's idle-connection ping: a connection killed while idle in the pool is replaced, a busy one is not pinged."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr
from sqlalchemy import text

from services.common.db import create_engine
from services.common.settings import DatabaseSettings


def _settings(url: str, idle: float) -> DatabaseSettings:
    return DatabaseSettings(
        url=SecretStr(url), pool_size=1, max_overflow=0, pool_ping_after_idle_seconds=idle
    )


async def test_connection_killed_while_idle_is_replaced_at_checkout(database_url: str) -> None:
    engine = create_engine(_settings(database_url, idle=0.2))
    try:
        async with engine.connect() as conn:
            first_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        killer = create_engine(_settings(database_url, idle=0))
        try:
            async with killer.connect() as conn:
                assert (
                    await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first_pid})
                ).scalar_one()
        finally:
            await killer.dispose()
        await asyncio.sleep(0.3)  # idle past the threshold: the checkout pings and reconnects
        async with engine.connect() as conn:
            second_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second_pid != first_pid
    finally:
        await engine.dispose()


async def test_connection_reused_at_once_is_not_pinged(database_url: str) -> None:
    engine = create_engine(_settings(database_url, idle=60))
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda c: pings.append(c) or real_ping(c)  # type: ignore[method-assign]
    try:
        for _ in range(3):
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        assert pings == []
    finally:
        await engine.dispose()


async def test_zero_threshold_pings_every_checkout(database_url: str) -> None:
    engine = create_engine(_settings(database_url, idle=0))
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda c: pings.append(c) or real_ping(c)  # type: ignore[method-assign]
    try:
        for _ in range(3):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert len(pings) == 2  # every checkout of a pooled (not new) connection
    finally:
        await engine.dispose()
