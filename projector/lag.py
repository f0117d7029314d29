"""Projection lag, from the outbox's committed commands that the read models do not reflect yet."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Lag is measured against what is known to be committed (the outbox rows with a commit
# block) rather than against the time of the last event: on a quiet chain nothing is
# committed and not projected, so both figures are 0 and nobody is paged for silence.
_LAG = text(
    """
    SELECT count(DISTINCT c.block_number) AS blocks,
           COALESCE(EXTRACT(EPOCH FROM now() - min(c.updated_at)), 0) AS seconds
      FROM outbox.commands c
     WHERE c.status = 'COMMITTED'
       -- Everything in a block before the checkpoint's is applied (events come in block
       -- order), so only the checkpoint's block and later need the per-transaction check.
       AND c.block_number >= COALESCE((SELECT min(k.block_number) FROM ledger.checkpoints k), 0)
       AND NOT EXISTS (SELECT 1 FROM ledger.projected_txs p WHERE p.tx_id = c.tx_id)
    """
)


async def measure(engine: AsyncEngine) -> tuple[int, float]:
    """(blocks with unprojected commits, age in seconds of the oldest unprojected commit)."""
    async with engine.connect() as conn:
        row = (await conn.execute(_LAG)).one()
    return int(row.blocks), float(row.seconds)
