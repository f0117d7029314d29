"""Projection lag over real PostgreSQL: committed outbox commands the read models do not reflect yet."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import lag, store
from services.common.outbox_tables import commands

NAME = "gxchannel/gx"
_DAY = 86_400


async def _committed(engine: AsyncEngine, block: int, tx_id: str, age: timedelta) -> None:
    """A command the outbox saw COMMITTED in `block` as `tx_id`, `age` ago."""
    async with engine.begin() as conn:
        await conn.execute(
            commands.insert().values(
                id=uuid.uuid4(),
                command_type="TRANSFER_TOKENS",
                payload={},
                request_id=str(uuid.uuid4()),
                status="COMMITTED",
                block_number=block,
                tx_id=tx_id,
                updated_at=func.now() - age,
            )
        )


async def _project(engine: AsyncEngine, block: int, tx_id: str) -> None:
    async with engine.begin() as conn:
        await store.mark_projected(conn, tx_id, block, 1)


async def test_lag_counts_blocks_and_age_of_unprojected_commits_only(engine: AsyncEngine) -> None:
    # A quiet chain: nothing committed, nothing behind.
    assert await lag.measure(engine) == (0, 0.0)

    await _committed(engine, 5, "tx-a", timedelta(days=3))
    await _committed(engine, 5, "tx-b", timedelta(days=2))
    await _committed(engine, 6, "tx-c", timedelta(days=1))
    blocks, seconds = await lag.measure(engine)
    assert blocks == 2
    assert seconds >= 3 * _DAY

    # Block 5 projected: only block 6 is behind, and its commit is the oldest one left.
    await _project(engine, 5, "tx-a")
    await _project(engine, 5, "tx-b")
    blocks, seconds = await lag.measure(engine)
    assert blocks == 1
    assert _DAY <= seconds < 2 * _DAY

    # A checkpoint past block 6 means everything before it was applied, projected_txs or not.
    async with engine.begin() as conn:
        await store.load_checkpoint(conn, NAME)
        await store.save_checkpoint(conn, NAME, 7, "tx-z", 1, None)
    assert await lag.measure(engine) == (0, 0.0)
