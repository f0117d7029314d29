"""SQL of the projector's own bookkeeping: checkpoint, projected transactions, poison events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class Checkpoint:
    """Where the projector stands.

    Attributes:
        block_number: the block of the last applied event; None before the first one.
        tx_id: the transaction of the last applied event in that block.
        generation: bumped by every rebuild; a projector that sees it change starts over.
        events_applied: how many chaincode events were applied in this generation.
    """

    block_number: int | None
    tx_id: str | None
    generation: int
    events_applied: int


async def load_checkpoint(conn: AsyncConnection, name: str, *, for_update: bool = False) -> Checkpoint:
    """Read (creating if needed) the checkpoint row of one projection."""
    await conn.execute(
        text("INSERT INTO ledger.checkpoints (name) VALUES (:name) ON CONFLICT (name) DO NOTHING"),
        {"name": name},
    )
    row = (
        await conn.execute(
            text(
                "SELECT block_number, tx_id, generation, events_applied FROM ledger.checkpoints WHERE name = :name"
                + (" FOR UPDATE" if for_update else "")
            ),
            {"name": name},
        )
    ).one()
    return Checkpoint(row.block_number, row.tx_id, row.generation, row.events_applied)


async def save_checkpoint(
    conn: AsyncConnection, name: str, block_number: int, tx_id: str, events: int, event_time: object
) -> None:
    """Move the checkpoint to (block, tx) in the caller's transaction (the one that applied it)."""
    await conn.execute(
        text(
            "UPDATE ledger.checkpoints SET block_number = :block, tx_id = :tx, events_applied = events_applied + :n,"
            " last_event_time = COALESCE(:time, last_event_time), updated_at = now() WHERE name = :name"
        ),
        {"block": block_number, "tx": tx_id, "n": events, "time": event_time, "name": name},
    )


async def lock_generation(conn: AsyncConnection, name: str) -> int | None:
    """Lock the checkpoint row for this transaction and return its generation (None if missing)."""
    return (
        await conn.execute(
            text("SELECT generation FROM ledger.checkpoints WHERE name = :name FOR UPDATE"), {"name": name}
        )
    ).scalar()


async def mark_projected(
    conn: AsyncConnection,
    tx_id: str,
    block_number: int,
    event_count: int,
    request_id: str | None = None,
    command_type: str | None = None,
    tx_time: object = None,
) -> bool:
    """Record that `tx_id` is applied; False when it already was (a replay: apply nothing)."""
    row = (
        await conn.execute(
            text(
                "INSERT INTO ledger.projected_txs (tx_id, block_number, event_count, request_id, command_type, tx_time)"
                " VALUES (:tx, :block, :n, :rid, :ctype, :time) ON CONFLICT (tx_id) DO NOTHING RETURNING tx_id"
            ),
            {"tx": tx_id, "block": block_number, "n": event_count, "rid": request_id, "ctype": command_type, "time": tx_time},
        )
    ).first()
    return row is not None


async def record_poison(
    conn: AsyncConnection,
    name: str,
    block_number: int,
    tx_id: str,
    event_index: int | None,
    event_name: str,
    payload: bytes,
    error: str,
) -> None:
    """Keep the event that stopped the projector, with its position, for operators."""
    await conn.execute(
        text(
            "INSERT INTO ledger.poison_events (name, block_number, tx_id, event_index, event_name, payload, error)"
            " VALUES (:name, :block, :tx, :idx, :ename, :payload, :error)"
        ),
        {
            "name": name,
            "block": block_number,
            "tx": tx_id,
            "idx": event_index,
            "ename": event_name,
            "payload": payload,
            "error": error[:4000],
        },
    )


async def command_traceparent(conn: AsyncConnection, tx_id: str) -> str | None:
    """The W3C trace stored with the outbox command that became `tx_id`, if any.

    One probe of outbox.commands' partial tx_id index per applied transaction; a transaction
    submitted outside the outbox (or whose command predates traces) has none.
    """
    return (
        await conn.execute(
            text("SELECT traceparent FROM outbox.commands WHERE tx_id = :tx LIMIT 1"), {"tx": tx_id}
        )
    ).scalar_one_or_none()
