"""The shared PostgreSQL and Redis fixtures give real, usable servers."""

from __future__ import annotations

import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.stack import PostgresHandle


async def test_database_url_is_a_fresh_async_database(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id bigint PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (9007199254740993)"))
            value = (await conn.execute(text("SELECT id FROM t"))).scalar_one()
            tables = (
                await conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname='public'"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert value == 9007199254740993
    assert tables == 1


async def test_postgres_listens_on_loopback_tcp(postgres: PostgresHandle) -> None:
    assert postgres.host == "127.0.0.1"
    engine = create_async_engine(postgres.url)
    try:
        async with engine.connect() as conn:
            port = (await conn.execute(text("SHOW port"))).scalar_one()
            sockets = (await conn.execute(text("SHOW unix_socket_directories"))).scalar_one()
    finally:
        await engine.dispose()
    assert int(port) == postgres.port
    assert sockets == ""


def test_created_databases_are_distinct(postgres: PostgresHandle) -> None:
    first = postgres.create_database("x")
    second = postgres.create_database("x")
    try:
        assert first != second
    finally:
        postgres.drop_database(first)
        postgres.drop_database(second)


async def test_redis_url_answers_commands(redis_url: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        await client.set("gx:test", "1")
        assert await client.incr("gx:test") == 2
    finally:
        await client.aclose()
