"""Reset the read models so the projector replays the chain from block 0 (`gx projector rebuild`)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Every table the projector fills from events. Bookkeeping that must survive a rebuild
# (checkpoints, which carries the generation; poison_events, the operators' record) is not here.
READ_MODEL_TABLES = (
    "ledger.projected_txs",
    "ledger.wallets",
    "ledger.users",
    "ledger.transactions",
    "ledger.system_status",
    "ledger.system_parameters",
    "ledger.admins",
    "ledger.countries",
    "ledger.organizations",
    "ledger.multisig_txs",
    "ledger.loans",
    "ledger.proposals",
    "ledger.votes",
)


async def reset(conn: AsyncConnection, name: str) -> int:
    """Empty the read models and rewind the checkpoint, in the caller's transaction.

    The checkpoint row is locked first, so this waits for (and then invalidates) any
    transaction the active projector is applying; the new generation tells that projector to
    re-open its stream from block 0 instead of continuing where it was.

    Returns:
        The new generation.
    """
    await conn.execute(
        text("INSERT INTO ledger.checkpoints (name) VALUES (:n) ON CONFLICT (name) DO NOTHING"), {"n": name}
    )
    await conn.execute(text("SELECT 1 FROM ledger.checkpoints WHERE name = :n FOR UPDATE"), {"n": name})
    await conn.execute(text(f"TRUNCATE {', '.join(READ_MODEL_TABLES)} RESTART IDENTITY"))
    generation = (
        await conn.execute(
            text(
                "UPDATE ledger.checkpoints SET block_number = NULL, tx_id = NULL, events_applied = 0,"
                " last_event_time = NULL, generation = generation + 1, updated_at = now()"
                " WHERE name = :n RETURNING generation"
            ),
            {"n": name},
        )
    ).scalar_one()
    return int(generation)
