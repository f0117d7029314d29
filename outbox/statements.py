"""One-statement autocommit SQL for the worker's hot path: on a psycopg pool, or on the engine.

Every command makes three or four of these (claim, store envelope, record outcome, hand-over), each
ONE statement that is atomic on its own. Through SQLAlchemy each one built a `Connection` (a fresh
event-dispatch object per checkout: `_Dispatch._for_class` was the largest single item of the
worker's CPU profile under `bench ordering`), a greenlet hop, a result wrapper and the pool's
reset-on-return. On a driver connection from a small autocommit psycopg pool the statement is the
round trip alone (prepared by psycopg after a few runs, so PostgreSQL skips parse and plan too).

The SQL is written once in psycopg's syntax (`%(name)s`); without a pool (a repository built on an
engine alone: tests, tools) the same text runs through the engine's own psycopg driver with
`exec_driver_sql`, so both paths run identical statements with identical conversions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine


class Statements:
    """Runs one autocommit statement and returns its rows (attribute access by column name)."""

    def __init__(self, engine: AsyncEngine, pool: AsyncConnectionPool | None = None) -> None:
        """Run on `pool` (autocommit driver connections) when given, else on `engine` in autocommit."""
        self._pool = pool
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def rows(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any]:
        """Run `sql` (psycopg syntax) with `params` as one autocommit statement; its rows."""
        if self._pool is not None:
            async with self._pool.connection() as conn:
                cursor = conn.cursor(row_factory=namedtuple_row)
                # Binary parameters: the signed envelopes (a few KB each, as a bytea[]) went as
                # hex text built in Python (psycopg's array dumper was ~2% of the worker's CPU).
                await cursor.execute(sql, params, binary=True)
                return await cursor.fetchall() if cursor.description is not None else []
        async with self._autocommit.connect() as conn:
            result = await conn.exec_driver_sql(sql, dict(params))
            return result.all() if result.returns_rows else []
