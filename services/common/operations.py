"""GetOperation/WaitOperation for ledger commands: the outbox row combined with the projection state.

"Done" means what a client needs: a FAILED command is done; a COMMITTED one is done only once
the projector has applied its transaction, so a client that waited can read the effect from
the read models at once. Until then a committed command shows as SUBMITTED (with its Fabric
tx id and block), never as COMMITTED.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from gx.type.v1 import operation_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.outbox import operation_from_row

# One statement: the command, and whether its transaction is projected. A transaction is
# projected when the projector recorded it, or when the projector's checkpoint has moved past
# its block (every transaction in an earlier block is applied; this also covers a rebuild
# that is still replaying older blocks, where projected_txs is being refilled).
_SELECT = text(
    """
    SELECT c.id, c.command_type, c.status, c.tx_id, c.block_number, c.error_code, c.error_message,
           c.result_json, c.created_at, c.updated_at, c.principal_id,
           (c.status = 'COMMITTED' AND (
               EXISTS (SELECT 1 FROM ledger.projected_txs p WHERE p.tx_id = c.tx_id)
               OR EXISTS (SELECT 1 FROM ledger.checkpoints k WHERE k.block_number > c.block_number)
           )) AS projected
      FROM outbox.commands c
     WHERE c.id = :id
    """
)

def operation_from_command(row: Any) -> operation_pb2.Operation:
    """Build the client's Operation from a row selected by `_SELECT` (with `projected`).

    The row's own fields become the Operation as `services.common.outbox.operation_from_row`
    builds it for every caller; only `done` and the state of a committed-but-not-projected
    command differ: that one is still SUBMITTED and not done.
    """
    projected = bool(row.projected)
    committed = row.status == "COMMITTED"
    operation = operation_from_row(row, done=row.status == "FAILED" or (committed and projected))
    if committed and not projected:
        operation.state = operation_pb2.OPERATION_STATE_SUBMITTED
    return operation


def parse_operation_name(name: str) -> uuid.UUID | None:
    """`operations/<uuid>` or a bare UUID → the command id; None when malformed."""
    try:
        return uuid.UUID(name.removeprefix("operations/"))
    except (ValueError, AttributeError):
        return None


async def fetch_command(conn: AsyncConnection, command_id: uuid.UUID) -> Any | None:
    """The command row with its projection state (includes `principal_id` for owner checks)."""
    return (await conn.execute(_SELECT, {"id": command_id})).first()


async def get_operation(engine: AsyncEngine, command_id: uuid.UUID) -> tuple[operation_pb2.Operation, Any] | None:
    """The operation and its raw row (for the caller's owner check), or None if there is no such command."""
    async with engine.connect() as conn:
        row = await fetch_command(conn, command_id)
    return None if row is None else (operation_from_command(row), row)


async def wait_operation(
    engine: AsyncEngine,
    command_id: uuid.UUID,
    wait_seconds: float,
    *,
    poll_interval: float = 0.05,
    max_poll_interval: float = 0.5,
) -> tuple[operation_pb2.Operation, Any] | None:
    """Like `get_operation`, but wait up to `wait_seconds` for `done`.

    It returns the operation as it stands when the time is up (not an error, per AIP-151's
    WaitOperation). Polls with a growing interval: a short wait sees a fast commit quickly,
    a long one does not hammer the database.
    """
    deadline = time.monotonic() + max(0.0, wait_seconds)
    interval = poll_interval
    while True:
        result = await get_operation(engine, command_id)
        if result is None or result[0].done:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return result
        await asyncio.sleep(min(interval, remaining))
        interval = min(interval * 1.5, max_poll_interval)
