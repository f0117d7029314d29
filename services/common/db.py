"""PostgreSQL through SQLAlchemy 2 async over psycopg 3: engine, session factory, readiness check."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import psycopg
from prometheus_client import CollectorRegistry
from psycopg import pq
from psycopg.rows import namedtuple_row, tuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.common.pool_metrics import PoolMetrics, TimedPool
from services.common.settings import DatabaseSettings


def create_engine(
    settings: DatabaseSettings, *, pool_name: str = "main", registry: CollectorRegistry | None = None
) -> AsyncEngine:
    """Create the process's one engine (and its pool); the caller disposes it.

    Every process (services and workers) builds its engine here, so each one publishes the
    pool metrics (`gx_db_pool_*{pool=pool_name}`, see `pool_metrics`).

    Args:
        settings: URL (`postgresql+psycopg://...`) and pool sizes.
        pool_name: The `pool` label of the pool metrics.
        registry: Where the pool metrics go (the process default when None).
    """
    idle_ping = settings.pool_pre_ping and settings.pool_ping_after_idle_seconds > 0
    engine = create_async_engine(
        settings.url.get_secret_value(),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        # With an idle threshold the checkout hook below pings instead of SQLAlchemy.
        pool_pre_ping=settings.pool_pre_ping and not idle_ping,
        echo=settings.echo,
        poolclass=TimedPool,
    )
    PoolMetrics.for_registry(registry).observe(engine.sync_engine, pool_name)
    if idle_ping:
        _ping_idle_connections(engine, settings.pool_ping_after_idle_seconds)
    return engine


_IDLE_SINCE: Final = "gx_idle_since"


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only if it sat idle for `idle_seconds` or more.

    A failed ping invalidates the whole pool, as SQLAlchemy's own pre-ping does: after a
    PostgreSQL restart every older connection is dead too. A new connection carries no
    timestamp (SQLAlchemy clears a record's `info` when it reconnects), so it is not pinged.
    """
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa_exc.InvalidatePoolError(f"pre-ping of an idle connection failed: {exc}") from exc


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.asynccontextmanager
async def open_database(
    settings: DatabaseSettings,
) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    """Engine and session factory for the life of the block; the pool is disposed on exit."""
    engine = create_engine(settings)
    try:
        yield engine, create_session_factory(engine)
    finally:
        await engine.dispose()


def autocommit_reads(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, with connections in autocommit: for read-only use.

    A plain `engine.connect()` read costs three round trips (BEGIN, the query, the ROLLBACK
    when the connection returns to the pool); in autocommit it is the query alone. Under
    READ COMMITTED each statement sees its own snapshot either way, so reads answer the same.
    Never write through it: each statement would commit on its own.
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT")


@contextlib.asynccontextmanager
async def open_autocommit_pool(
    settings: DatabaseSettings, *, max_size: int = 8, name: str = "statements"
) -> AsyncIterator[AsyncConnectionPool]:
    """Autocommit driver connections for the hottest single statements, closed on exit.

    A checkout from the engine (even `autocommit_reads`) costs about 0.15 ms of CPU in
    SQLAlchemy (its connection wrapper, greenlet hops, pool events, the isolation level set and
    reset); one from this pool about 0.03 ms. Statements on it run through `fetch_all` (psycopg
    syntax) and each is its own transaction: the wallet's reads and its accept statement, the
    outbox's claim and outcome statements, the coalesced NOTIFY. Anything that needs two
    statements to hold together belongs on the engine, in a transaction.

    Args:
        settings: The database settings (URL, pool timeout).
        max_size: Its connections at most, on top of the engine's pool. Eight, not four: with 16
            calls in flight a checkout that waits costs the loop a future and a wake-up (wallet
            CPU per balance read about 4% lower at 8 in `bench wallet`, back to back).
        name: The pool's name in psycopg's logs and statistics.
    """
    pool: AsyncConnectionPool = AsyncConnectionPool(
        libpq_dsn(settings.url.get_secret_value()),
        min_size=1,
        max_size=max_size,
        timeout=settings.pool_timeout,
        max_lifetime=settings.pool_recycle,
        kwargs={"autocommit": True},
        name=name,
        open=False,
    )
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


def libpq_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+psycopg://...` → `postgresql://...`, for a raw psycopg connection (a LISTEN).

    LISTEN needs a connection of its own that never returns to a pool, so it is opened with
    psycopg directly, which does not know SQLAlchemy's driver suffix.
    """
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


async def check_database(engine: AsyncEngine) -> None:
    """Readiness: a round trip to PostgreSQL; raises when it is unreachable."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


_DRIVER: Final = "gx_driver_connection"
# What hot-path helpers accept: a session (inside its transaction) or a connection.
Queryable = AsyncSession | AsyncConnection
# What `fetch_all` runs on: those, or a driver connection of `open_autocommit_pool`.
Fetchable = AsyncSession | AsyncConnection | psycopg.AsyncConnection[Any]


async def driver_connection(db: Fetchable) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under a session's or connection's current transaction.

    Statements sent on it join that transaction (SQLAlchemy commits or rolls back the same
    connection), so hot paths can skip SQLAlchemy's per-statement work (compilation cache
    lookups, greenlet switches, result wrapping: about 0.1 ms of CPU per statement).
    """
    if isinstance(db, psycopg.AsyncConnection):
        return db
    if not isinstance(db, AsyncSession):
        return await _driver_of(db)
    # A transaction keeps one connection, so a hot path's several statements look it up once.
    sync = db.sync_session
    cached = sync.info.get(_DRIVER)
    if cached is not None and cached[0] is sync.get_transaction():
        driver: psycopg.AsyncConnection[Any] = cached[1]
        return driver
    driver = await _driver_of(await db.connection())
    sync.info[_DRIVER] = (sync.get_transaction(), driver)
    return driver


async def _driver_of(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver


async def fetch_tuples(
    db: Fetchable, sql: str, params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Run one SELECT straight on the driver and return its rows in binary as plain tuples.

    For the hot reads, whose callers take the columns by position: no named tuple (psycopg's read
    the column names from every result) and no integer or time parsed from text.
    """
    cursor = (await driver_connection(db)).cursor(row_factory=tuple_row)
    async with cursor:
        await cursor.execute(sql, params, binary=True)
        return await cursor.fetchall()


async def fetch_all(db: Fetchable, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
    """Run one statement straight on the driver and return its rows as named tuples.

    Args:
        db: The session or connection whose transaction the statement joins.
        sql: psycopg syntax: `%(name)s` placeholders (a literal `%` is written `%%`).
        params: The named parameters.
    """
    cursor = (await driver_connection(db)).cursor(row_factory=namedtuple_row)
    async with cursor:
        await cursor.execute(sql, params)
        # The result's status, not `cursor.description`: that builds a Column object per column
        # (about 12% of a transfer accept's CPU in the wallet, measured with cProfile).
        result = cursor.pgresult
        if result is None or result.status != pq.ExecStatus.TUPLES_OK:
            return []
        return await cursor.fetchall()
