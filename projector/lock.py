"""Active/standby election for the projector: a PostgreSQL session advisory lock per channel."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_LOG = logging.getLogger(__name__)


async def try_acquire(conn: AsyncConnection, key: int) -> bool:
    """Try once to take the lock on `conn`'s session; never waits.

    The lock is session-level: it outlives the transaction that took it and is released
    only when the session ends, which is exactly "while this projector is alive". The
    projector applies events on this same connection, so it can never write after losing
    the lock: the write and the lock die together with the session.
    """
    got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar_one()
    await conn.commit()
    return bool(got)


async def acquire(conn: AsyncConnection, key: int, retry_interval: float, on_standby: object = None) -> None:
    """Wait as a standby until the lock is ours.

    Args:
        conn: the dedicated connection that will hold the lock and apply events.
        key: the lock id, `services.common.names.projector_lock(channel, chaincode)`.
        retry_interval: seconds between attempts while another projector is active.
        on_standby: optional callable invoked once when this process becomes a standby.
    """
    announced = False
    while not await try_acquire(conn, key):
        if not announced:
            _LOG.info("another projector is active; waiting as standby (lock %s)", key)
            if callable(on_standby):
                on_standby()
            announced = True
        await asyncio.sleep(retry_interval)
    _LOG.info("projector lock %s acquired: this projector is active", key)


async def holder_pid(conn: AsyncConnection, key: int) -> int | None:
    """The backend pid of the session holding the lock, or None if no projector is active."""
    # Postgres stores a bigint advisory key as two 32-bit halves (classid high, objid low).
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = (
        await conn.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"
            ),
            {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
        )
    ).first()
    return None if row is None else int(row[0])


async def release(conn: AsyncConnection, key: int) -> None:
    """Give the lock back before `conn` returns to its pool.

    A pooled connection outlives its checkout, and with it a session lock: without this, a
    projector shut down inside a still-running process (tests, a supervisor restarting the
    task) would keep the standby waiting for ever. If the unlock itself fails the connection
    is invalidated, which closes the session and so frees the lock too.
    """
    try:
        if conn.in_transaction():
            await conn.rollback()
        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        await conn.commit()
    except Exception:
        await conn.invalidate()
