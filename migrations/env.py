"""Alembic environment: runs the one migration history over an async psycopg 3 engine."""

from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.sql import functions


def _load_declared() -> ModuleType:
    # By path: env.py is run by Alembic from its script location, whatever the caller's sys.path.
    spec = importlib.util.spec_from_file_location(
        "gx_migrations_declared", Path(__file__).with_name("declared.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Revisions are still written by hand (plain DDL reads better in review than autogenerate
# output); the metadata is every owner's declared tables, so `alembic check` (make schema-check)
# fails when the migrations and the declarations disagree.
target_metadata = _load_declared().metadatas()

# Schemas Alembic never compares: PostgreSQL's own, and `public`, which holds only
# alembic_version (Alembic's bookkeeping, not a table anyone declares).
_IGNORED_SCHEMAS = frozenset({"public", "information_schema"})


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Reflect every GX schema (so an undeclared table in any of them is reported)."""
    if type_ == "schema":
        return name is not None and name not in _IGNORED_SCHEMAS and not name.startswith("pg_")
    return True


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out what autogenerate cannot model.

    A declared view (`info={"is_view": True}`, declared only for the columns queries name) is left
    out: Alembic reflects no views, so it would read as a table to create. Alembic never compares
    triggers and their functions (`outbox.live_keys_*`), sequences, CHECK constraints, roles and
    grants (0011) either: they stay in the migrations' DDL and are proved by the integration tests.
    """
    if type_ == "table" and not reflected and obj.info.get("is_view"):
        return False
    return True


def _compare_server_default(
    migration: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Compare a `Sequence.next_value()` default with the column's real default.

    A sequence OWNED BY its column (outbox.commands.seq) reads back like a SERIAL's, so Alembic
    omits the reflected `nextval(...)` and would report the declared default as missing. Ask the
    catalogue instead. Anything else: Alembic's own comparison (None).
    """
    declared = getattr(metadata_column.server_default, "arg", None)
    if inspected_default is not None or not isinstance(declared, functions.next_value):
        return None
    table = metadata_column.table
    actual = migration.connection.execute(
        text(
            "SELECT column_default FROM information_schema.columns"
            " WHERE table_schema = :schema AND table_name = :table AND column_name = :column"
        ),
        {"schema": table.schema, "table": table.name, "column": metadata_column.name},
    ).scalar()
    sequence = declared.sequence
    return bool(actual != f"nextval('{sequence.schema or table.schema}.{sequence.name}'::regclass)")


def _database_url() -> str:
    """The URL from `Config.set_main_option("sqlalchemy.url")` (gx db) or GX_DATABASE__URL."""
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("GX_DATABASE__URL", "")
    if not url:
        raise RuntimeError("no database URL: set GX_DATABASE__URL (postgresql+psycopg://...)")
    return url


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_schemas=True,
        include_name=_include_name,
        include_object=_include_object,
        compare_type=True,
        compare_server_default=_compare_server_default,
        **kwargs,
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection, transaction_per_migration=True)
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
    _configure(url=_database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
