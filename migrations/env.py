"""Alembic environment: runs the one migration history over an async psycopg 3 engine."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Tables are written by hand in each revision (plain DDL reads better in review than
# autogenerate output), so there is no target metadata.
target_metadata = None


def _database_url() -> str:
    """The URL from `Config.set_main_option("sqlalchemy.url")` (gx db) or GX_DATABASE__URL."""
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("GX_DATABASE__URL", "")
    if not url:
        raise RuntimeError("no database URL: set GX_DATABASE__URL (postgresql+psycopg://...)")
    return url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    # NullPool: a migration run is one short-lived connection, never worth pooling.
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
