"""PostgreSQL through SQLAlchemy 2 async over psycopg 3: engine, session factory, readiness check."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.common.settings import DatabaseSettings


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the process's one engine (and its pool); the caller disposes it.

    Args:
        settings: URL (`postgresql+psycopg://...`) and pool sizes.
    """
    return create_async_engine(
        settings.url.get_secret_value(),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        echo=settings.echo,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.asynccontextmanager
async def open_database(settings: DatabaseSettings) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    """Engine and session factory for the life of the block; the pool is disposed on exit."""
    engine = create_engine(settings)
    try:
        yield engine, create_session_factory(engine)
    finally:
        await engine.dispose()


async def check_database(engine: AsyncEngine) -> None:
    """Readiness: a round trip to PostgreSQL; raises when it is unreachable."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
