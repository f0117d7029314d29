"""Projection lag, from the outbox's committed commands that the read models do not reflect yet."""

from __future__ import annotations

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from projector.tables import checkpoints, projected_txs
from services.common.outbox_tables import commands

_C = commands.c

# Lag is measured against what is known to be committed (the outbox rows with a commit
# block) rather than against the time of the last event: on a quiet chain nothing is
# committed and not projected, so both figures are 0 and nobody is paged for silence.
_LAG = select(
    func.count(distinct(_C.block_number)).label("blocks"),
    func.coalesce(func.extract("epoch", func.now() - func.min(_C.updated_at)), 0).label("seconds"),
).where(
    _C.status == "COMMITTED",
    # Everything in a block before the checkpoint's is applied (events come in block order), so
    # only the checkpoint's block and later need the per-transaction check.
    _C.block_number >= func.coalesce(select(func.min(checkpoints.c.block_number)).scalar_subquery(), 0),
    ~exists().where(projected_txs.c.tx_id == _C.tx_id),
)


async def measure(engine: AsyncEngine) -> tuple[int, float]:
    """(blocks with unprojected commits, age in seconds of the oldest unprojected commit)."""
    async with engine.connect() as conn:
        row = (await conn.execute(_LAG)).one()
    return int(row.blocks), float(row.seconds)
