"""Operations: the one module that reads what a ledger command's operation shows (GetOperation, WaitOperation).

Operations are read from the view `outbox.operations` (the live queue plus the archived commands,
`services.common.outbox_tables`), so an operation answers the same before and after the outbox's
retention worker moves its command out of the queue. Nothing else selects operation fields from
`outbox.commands`.

"Done" means what a client needs: a FAILED command is done; a COMMITTED one is done only once
the projector has applied its transaction, so a client that waited can read the effect from
the read models at once. Until then a committed command shows as SUBMITTED (with its Fabric
tx id and block), never as COMMITTED.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from gx.type.v1 import operation_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common import command_types

# Whether the command `c` (a row of outbox.commands or outbox.operations) is COMMITTED and its
# transaction projected: the projector recorded it, or its checkpoint has moved past the block
# (every transaction in an earlier block is applied; this also covers a rebuild that is still
# replaying older blocks, where projected_txs is being refilled). The retention worker archives
# a COMMITTED command only when this holds.
PROJECTED_SQL: Final = """(c.status = 'COMMITTED' AND (
               EXISTS (SELECT 1 FROM ledger.projected_txs p WHERE p.tx_id = c.tx_id)
               OR EXISTS (SELECT 1 FROM ledger.checkpoints k WHERE k.block_number > c.block_number)
           ))"""

# One statement: the operation, and whether its transaction is projected.
_SELECT = text(
    f"""
    SELECT c.id, c.command_type, c.status, c.tx_id, c.block_number, c.error_code, c.error_message,
           c.result_json, c.created_at, c.updated_at, c.principal_id,
           {PROJECTED_SQL} AS projected
      FROM outbox.operations c
     WHERE c.id = :id
    """
)

_STATES: Final = {
    "PENDING": operation_pb2.OPERATION_STATE_PENDING,
    "SUBMITTED": operation_pb2.OPERATION_STATE_SUBMITTED,
    "COMMITTED": operation_pb2.OPERATION_STATE_COMMITTED,
    "FAILED": operation_pb2.OPERATION_STATE_FAILED,
}
# Ledger conflicts are retryable by the client; any other failure is a rejection of the
# command as it stands.
_CONFLICT_CODES: Final = frozenset({"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT", "ABORTED"})


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime | None) -> Timestamp | None:
    """A Timestamp, or None for a missing time (a naive time is taken as UTC, as FromDatetime does).

    Built from the difference to the epoch, not with `Timestamp.FromDatetime` (Python code in
    protobuf): half the cost; every Operation carries two and a history page one per row. A
    timedelta keeps its seconds and microseconds non-negative, so days * 86400 + seconds is the
    floor, as a Timestamp's `seconds` must be for times before 1970.
    """
    if value is None:
        return None
    delta = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)) - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)


def _error_code(error_code: str) -> int:
    if error_code in _CONFLICT_CODES:
        return int(grpc.StatusCode.ABORTED.value[0])
    for code in grpc.StatusCode:
        if code.name == error_code:
            return int(code.value[0])
    return int(grpc.StatusCode.FAILED_PRECONDITION.value[0])


def operation_from_row(row: Any, *, done: bool | None = None) -> operation_pb2.Operation:
    """Build the Operation of a command row (of `outbox.operations` or `outbox.commands`).

    Args:
        row: A row (or mapping) with id, command_type, status, tx_id, block_number,
            error_code, error_message, result_json, created_at, updated_at.
        done: Override `done`. By default it is true in a terminal state; a caller that
            knows whether the read models already reflect a COMMITTED command passes that.
    """
    data: Mapping[str, Any] = row._mapping if hasattr(row, "_mapping") else row
    status = data["status"]
    op = operation_pb2.Operation(
        name=f"operations/{data['id']}",
        state=_STATES.get(status, operation_pb2.OPERATION_STATE_UNSPECIFIED),
        command_type=command_types.value_or_unspecified(data["command_type"]),
        fabric_tx_id=data.get("tx_id") or "",
        block_number=data.get("block_number") or 0,
        result_json=data.get("result_json") or "",
    )
    op.done = done if done is not None else status in ("COMMITTED", "FAILED")
    if status == "FAILED":
        code = data.get("error_code") or "FAILED"
        op.error.CopyFrom(
            operation_pb2.OperationError(
                code=_error_code(code), message=data.get("error_message") or "", reason=code
            )
        )
    for field, key in (("create_time", "created_at"), ("update_time", "updated_at")):
        ts = timestamp(data.get(key))
        if ts is not None:
            getattr(op, field).CopyFrom(ts)
    return op


def operation_from_command(row: Any) -> operation_pb2.Operation:
    """Build the client's Operation from a row selected by `fetch_command` (with `projected`).

    The row's own fields become the Operation as `operation_from_row` builds it for every caller;
    only `done` and the state of a committed-but-not-projected command differ: that one is still
    SUBMITTED and not done.
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
    """The operation's row with its projection state (includes `principal_id` for owner checks)."""
    return (await conn.execute(_SELECT, {"id": command_id})).first()


async def get_operation(
    engine: AsyncEngine, command_id: uuid.UUID
) -> tuple[operation_pb2.Operation, Any] | None:
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
