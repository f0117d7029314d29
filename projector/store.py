"""The projector's own bookkeeping (checkpoint, projected transactions, poison events), over `projector.tables`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from projector.tables import checkpoints, poison_events, projected_txs


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
    await ensure_checkpoint(conn, name)
    query = select(
        checkpoints.c.block_number,
        checkpoints.c.tx_id,
        checkpoints.c.generation,
        checkpoints.c.events_applied,
    ).where(checkpoints.c.name == name)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).one()
    return Checkpoint(row.block_number, row.tx_id, row.generation, row.events_applied)


async def ensure_checkpoint(conn: AsyncConnection, name: str) -> None:
    """Create the checkpoint row of one projection (at no block) unless it exists."""
    await conn.execute(insert(checkpoints).values(name=name).on_conflict_do_nothing(index_elements=["name"]))


# Move the checkpoint to (block, tx) in the transaction that applied it (a batch queues it in its
# pipeline); `:last_time` is the last transaction time, kept when None.
SAVE_CHECKPOINT: Final = (
    "UPDATE ledger.checkpoints SET block_number = :block, tx_id = :tx, events_applied = events_applied + :events,"
    " last_event_time = COALESCE(CAST(:last_time AS timestamptz), last_event_time), updated_at = now()"
    " WHERE name = :name"
)


def save_checkpoint_params(
    name: str, block_number: int, tx_id: str, events: int, event_time: datetime | None
) -> dict[str, Any]:
    """`SAVE_CHECKPOINT`'s parameters."""
    return {"name": name, "block": block_number, "tx": tx_id, "events": events, "last_time": event_time}


async def save_checkpoint(
    conn: AsyncConnection, name: str, block_number: int, tx_id: str, events: int, event_time: datetime | None
) -> None:
    """Move the checkpoint to (block, tx) in the caller's transaction (the one that applied it)."""
    await conn.execute(
        text(SAVE_CHECKPOINT), save_checkpoint_params(name, block_number, tx_id, events, event_time)
    )


# The checkpoint row's generation, locked for the transaction (a batch queues it in its pipeline).
LOCK_GENERATION: Final = (
    select(checkpoints.c.generation).where(checkpoints.c.name == bindparam("name")).with_for_update()
)


async def lock_generation(conn: AsyncConnection, name: str) -> int | None:
    """Lock the checkpoint row for this transaction and return its generation (None if missing)."""
    generation: int | None = (await conn.execute(LOCK_GENERATION, {"name": name})).scalar()
    return generation


async def current_generation(conn: AsyncConnection, name: str) -> int | None:
    """The checkpoint's generation without locking it (None if missing): has a rebuild happened?"""
    generation: int | None = (
        await conn.execute(select(checkpoints.c.generation).where(checkpoints.c.name == name))
    ).scalar()
    return generation


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
    statement = (
        insert(projected_txs)
        .values(
            tx_id=tx_id,
            block_number=block_number,
            event_count=event_count,
            request_id=request_id,
            command_type=command_type,
            tx_time=tx_time,
        )
        .on_conflict_do_nothing(index_elements=["tx_id"])
        .returning(projected_txs.c.tx_id)
    )
    return (await conn.execute(statement)).first() is not None


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
        insert(poison_events).values(
            name=name,
            block_number=block_number,
            tx_id=tx_id,
            event_index=event_index,
            event_name=event_name,
            payload=payload,
            error=error[:4000],
        )
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


@dataclass(frozen=True)
class Projected:
    """One transaction of a batch for `MARK_PROJECTED_MANY` (the columns of `ledger.projected_txs`)."""

    tx_id: str
    block_number: int
    event_count: int
    request_id: str | None
    command_type: str | None
    tx_time: datetime | None


# One statement for a whole batch: the rows (`json_rows`) become rows, a tx id already there is a
# replay (nothing returned for it), so the batch learns which transactions to apply in one trip.
MARK_PROJECTED_MANY: Final = (
    "INSERT INTO ledger.projected_txs (tx_id, block_number, event_count, request_id, command_type, tx_time)"
    " SELECT t.r->>'tx_id', CAST(t.r->>'block_number' AS bigint), CAST(t.r->>'event_count' AS integer),"
    "  t.r->>'request_id', t.r->>'command_type', CAST(t.r->>'tx_time' AS timestamptz)"
    " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS t(r)"
    " ON CONFLICT (tx_id) DO NOTHING RETURNING tx_id"
)


def mark_projected_params(rows: list[Projected]) -> dict[str, str]:
    """`MARK_PROJECTED_MANY`'s parameters for distinct transactions (`mark_projected` for each)."""
    return {
        "rows": json_rows(
            {
                "tx_id": r.tx_id,
                "block_number": r.block_number,
                "event_count": r.event_count,
                "request_id": r.request_id,
                "command_type": r.command_type,
                "tx_time": r.tx_time,
            }
            for r in rows
        )
    }


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON row value")


def json_rows(rows: Iterable[dict[str, Any]]) -> str:
    """Rows as one JSON array, for a set-based statement's `:rows` (`jsonb_array_elements`), times in
    ISO 8601: one text parameter, where arrays cost psycopg a look at every element of every list."""
    return json.dumps(list(rows), default=_json_value, separators=(",", ":"))


# `command_traceparent` for many transactions (`:txs`) in one probe of commands_tx_id_idx.
COMMAND_TRACEPARENTS: Final = (
    "SELECT tx_id, traceparent FROM outbox.commands"
    " WHERE tx_id = ANY(CAST(:txs AS text[])) AND traceparent IS NOT NULL"
)
