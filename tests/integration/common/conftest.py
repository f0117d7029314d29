"""Real PostgreSQL (migrated to the runtime's revision) and Redis for the runtime's integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common import db, migrate
from services.common.redis import open_redis
from services.common.settings import DatabaseSettings, RedisSettings
from tests.support.roles import as_process
from tests.support.stack import PostgresHandle

# The runtime's newest revision of its own tables (the outbox's ordering columns, live keys,
# traceparent, resource id map and archive, the acting partner). The history is linear, so the revisions
# of services in between (identity, read models, licensing) come along; the tests touch only the runtime's tables.
RUNTIME_REVISION = "0019_outbox_accept_writes"


@pytest.fixture
def fresh_url(postgres: PostgresHandle) -> Iterator[str]:
    """An empty database of the test's own, no migration run yet (a migration test takes it where
    it wants); dropped afterwards."""
    url = postgres.create_database("fresh")
    yield url
    postgres.drop_database(url)


@pytest.fixture(scope="module")
async def migrated_url(database_url: str) -> str:
    await asyncio.to_thread(migrate.upgrade, database_url, RUNTIME_REVISION)
    return database_url


@pytest.fixture(scope="module")
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    async with db.open_database(DatabaseSettings(url=SecretStr(migrated_url), pool_size=5)) as (eng, _):
        async with eng.begin() as conn:
            # A stand-in for a service's own rows, to prove they commit with the outbox row.
            await conn.execute(text("CREATE SCHEMA IF NOT EXISTS scratch"))
            await conn.execute(text("CREATE TABLE IF NOT EXISTS scratch.items (name text PRIMARY KEY)"))
        yield eng


@pytest.fixture(scope="module")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return db.create_session_factory(engine)


@pytest.fixture(scope="module")
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    async with open_redis(RedisSettings(url=SecretStr(redis_url))) as client:
        yield client


@pytest.fixture(scope="module")
async def roles(migrated_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """(wallet engine, outbox engine): each process's own LOGIN user, so a missing grant fails."""
    engines = [
        db.create_engine(DatabaseSettings(url=SecretStr(as_process(migrated_url, p)), pool_size=2))
        for p in ("wallet", "outbox")
    ]
    try:
        yield engines[0], engines[1]
    finally:
        for engine in engines:
            await engine.dispose()
