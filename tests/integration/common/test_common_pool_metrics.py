"""The shared engine factory publishes its pool's size, use and waits on a real PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from services.common import db
from services.common.settings import DatabaseSettings


def _value(registry: CollectorRegistry, name: str, pool: str = "main") -> float:
    found = registry.get_sample_value(name, {"pool": pool})
    assert found is not None, f"{name} missing"
    return found


async def test_pool_gauges_follow_checkouts_and_waits_are_timed(database_url: str) -> None:
    registry = CollectorRegistry()
    settings = DatabaseSettings(url=SecretStr(database_url), pool_size=2, max_overflow=1)
    engine = db.create_engine(settings, registry=registry)
    try:
        assert _value(registry, "gx_db_pool_max_connections") == 3
        assert _value(registry, "gx_db_pool_connections") == 0
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(text("SELECT 1"))
            await second.execute(text("SELECT 1"))
            assert _value(registry, "gx_db_pool_in_use_connections") == 2
            assert _value(registry, "gx_db_pool_connections") == 2
        assert _value(registry, "gx_db_pool_in_use_connections") == 0
        # Back in the pool, still open.
        assert _value(registry, "gx_db_pool_connections") == 2
        assert _value(registry, "gx_db_pool_wait_seconds_count") == 2
        # dispose() swaps in a fresh pool: it is still measured.
        await engine.dispose()
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            assert _value(registry, "gx_db_pool_in_use_connections") == 1
        assert _value(registry, "gx_db_pool_wait_seconds_count") == 3
    finally:
        await engine.dispose()


async def test_a_checkout_that_times_out_is_counted_with_its_wait(database_url: str) -> None:
    registry = CollectorRegistry()
    settings = DatabaseSettings(url=SecretStr(database_url), pool_size=1, max_overflow=0, pool_timeout=0.2)
    engine = db.create_engine(settings, registry=registry, pool_name="tiny")
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(sa_exc.TimeoutError):
                async with engine.connect():
                    pass
        assert _value(registry, "gx_db_pool_timeouts_total", "tiny") == 1
        # The failed checkout waited out the timeout, and that wait is in the histogram.
        assert _value(registry, "gx_db_pool_wait_seconds_sum", "tiny") >= 0.2
        waits = registry.get_sample_value("gx_db_pool_wait_seconds_bucket", {"pool": "tiny", "le": "0.1"})
        assert waits == 1  # only the first, immediate checkout
    finally:
        await engine.dispose()


async def test_two_engines_under_one_name_are_summed(database_url: str) -> None:
    registry = CollectorRegistry()
    settings = DatabaseSettings(url=SecretStr(database_url), pool_size=1, max_overflow=0)
    engines = [db.create_engine(settings, registry=registry) for _ in range(2)]
    try:
        async with engines[0].connect() as a, engines[1].connect() as b:
            await asyncio.gather(a.execute(text("SELECT 1")), b.execute(text("SELECT 1")))
            assert _value(registry, "gx_db_pool_in_use_connections") == 2
            assert _value(registry, "gx_db_pool_max_connections") == 2
    finally:
        for engine in engines:
            await engine.dispose()
