"""The resource id map and the retention of finished commands, on real PostgreSQL, as the processes' own roles.

`record_command` runs as the wallet's least-privilege user and the archiver as the outbox's
(migrations 0011/0012), so a grant that went missing fails here. Commands are moved through
their states by SQL, in the worker's and projector's place.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from gx.ledger.v1 import commands_pb2
from gx.type.v1 import operation_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from outbox.retention import LOCK_KEY, CommandArchiver, RetentionSettings
from services.common import operations, outbox
from services.common.errors import InvalidArgument

_NOW = RetentionSettings(days=0, batch_size=2, interval_seconds=0)


@pytest.fixture
async def clean(engine: AsyncEngine) -> None:
    # Each test judges the whole queue; start from an empty one (as the superuser).
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE outbox.live_keys, outbox.commands, outbox.archived_commands, outbox.resource_ids,"
                " outbox.retries, ledger.projected_txs, ledger.checkpoints"
            )
        )


def _loan(borrower: str | None = None) -> commands_pb2.ApplyForLoanRequest:
    return commands_pb2.ApplyForLoanRequest(
        borrower_id=borrower or str(uuid.uuid4()), amount_qirat=5_000_000, collateral_hash="ab" * 32
    )


def _transfer() -> commands_pb2.TransferTokensRequest:
    return commands_pb2.TransferTokensRequest(
        from_account_id=str(uuid.uuid4()), to_account_id=str(uuid.uuid4()), amount_qirat=1
    )


async def _record(
    wallet: AsyncEngine, payload: object, command_type: str, **kw: object
) -> operation_pb2.Operation:
    sessions = async_sessionmaker(wallet, expire_on_commit=False)
    async with sessions.begin() as session:
        return await outbox.record_command(session, command_type, payload, **kw)  # type: ignore[arg-type]


def _id(op: operation_pb2.Operation) -> uuid.UUID:
    return uuid.UUID(op.name.removeprefix("operations/"))


async def _finish(
    engine: AsyncEngine, op: operation_pb2.Operation, status: str, *, projected: bool, block: int = 7
) -> None:
    """Move a command to a terminal state as the worker would, and apply its tx as the projector would."""
    tx = f"tx-{uuid.uuid4().hex}"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE outbox.commands SET status = :s, tx_id = :tx, block_number = :b, updated_at = now(),"
                " error_code = CASE WHEN :s = 'FAILED' THEN 'NOT_FOUND' END,"
                " error_message = CASE WHEN :s = 'FAILED' THEN 'no such user' END,"
                " result_json = CASE WHEN :s = 'COMMITTED' THEN :result END WHERE id = :id"
            ),
            {"s": status, "tx": tx, "b": block, "id": _id(op), "result": '{"ok": true}'},
        )
        if projected:
            await conn.execute(
                text(
                    "INSERT INTO ledger.projected_txs (tx_id, block_number, event_count) VALUES (:tx, :b, 1)"
                ),
                {"tx": tx, "b": block},
            )


async def _operation(engine: AsyncEngine, op: operation_pb2.Operation) -> operation_pb2.Operation | None:
    found = await operations.get_operation(engine, _id(op))
    return None if found is None else found[0]


async def _where(engine: AsyncEngine, op: operation_pb2.Operation) -> str:
    async with engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT archived FROM outbox.operations WHERE id = :id"), {"id": _id(op)})
        ).one()
    return "archive" if row.archived else "queue"


async def test_a_command_that_creates_a_resource_maps_its_operation_to_its_ledger_id(
    clean: None, roles: tuple[AsyncEngine, AsyncEngine], engine: AsyncEngine
) -> None:
    wallet, _ = roles
    loan = await _record(wallet, _loan(), "APPLY_FOR_LOAN")
    transfer = await _record(wallet, _transfer(), "TRANSFER_TOKENS")
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT m.public_id, m.ledger_id, m.kind, m.command_type, c.request_id"
                    " FROM outbox.resource_ids m JOIN outbox.commands c ON c.id = m.public_id"
                )
            )
        ).all()
    # Only the loan: a transfer creates nothing a client names.
    assert [(r.public_id, r.kind, r.command_type) for r in rows] == [(_id(loan), "LOAN", "APPLY_FOR_LOAN")]
    assert rows[0].ledger_id == rows[0].request_id
    assert _id(transfer) not in {r.public_id for r in rows}


async def test_the_archive_takes_only_finished_projected_commands_nobody_waits_for(
    clean: None, roles: tuple[AsyncEngine, AsyncEngine], engine: AsyncEngine
) -> None:
    wallet, outbox_engine = roles
    pending = await _record(wallet, _transfer(), "TRANSFER_TOKENS")
    unprojected = await _record(wallet, _transfer(), "TRANSFER_TOKENS")
    await _finish(engine, unprojected, "COMMITTED", projected=False)
    committed = await _record(wallet, _loan(), "APPLY_FOR_LOAN")
    await _finish(engine, committed, "COMMITTED", projected=True)
    failed = await _record(wallet, _loan(), "APPLY_FOR_LOAN")
    await _finish(engine, failed, "FAILED", projected=False)
    # A committed, projected prerequisite of a command still in the queue stays until it is gone.
    prerequisite = await _record(wallet, _transfer(), "TRANSFER_TOKENS")
    await _finish(engine, prerequisite, "COMMITTED", projected=True)
    dependent = await _record(wallet, _transfer(), "TRANSFER_TOKENS", depends_on=_id(prerequisite))
    everything = (pending, unprojected, committed, failed, prerequisite, dependent)
    before = {op.name: await _operation(wallet, op) for op in everything}

    archiver = CommandArchiver(outbox_engine, _NOW)
    # Nothing is old enough under a day's retention.
    assert (
        await CommandArchiver(outbox_engine, RetentionSettings(days=1, interval_seconds=0)).archive_once()
        == 0
    )
    assert await archiver.archive_once() == 2  # two batches of at most 2: committed, failed

    assert {op.name: await _where(wallet, op) for op in everything} == {
        pending.name: "queue",
        unprojected.name: "queue",
        committed.name: "archive",
        failed.name: "archive",
        prerequisite.name: "queue",
        dependent.name: "queue",
    }
    # Every operation answers exactly as before, through the one module that reads them.
    assert {op.name: await _operation(wallet, op) for op in everything} == before
    assert before[committed.name] is not None and before[committed.name].done
    assert before[failed.name] is not None and before[failed.name].error.reason == "NOT_FOUND"

    await _finish(engine, dependent, "COMMITTED", projected=True)
    await _finish(engine, unprojected, "COMMITTED", projected=True)
    # A full batch (the dependent and the newly projected one) is followed by another, which finds
    # the prerequisite nothing waits for any more.
    assert await archiver.archive_once() == 3
    assert await _where(wallet, prerequisite) == "archive"
    assert await _where(wallet, pending) == "queue"


async def test_an_archived_request_id_replays_its_operation_and_records_nothing(
    clean: None, roles: tuple[AsyncEngine, AsyncEngine], engine: AsyncEngine
) -> None:
    wallet, outbox_engine = roles
    payload = _loan()
    payload.request_id = str(uuid.uuid4())
    first = await _record(wallet, payload, "APPLY_FOR_LOAN")
    await _finish(engine, first, "COMMITTED", projected=True)
    assert await CommandArchiver(outbox_engine, _NOW).archive_once() == 1
    again = await _record(wallet, payload, "APPLY_FOR_LOAN")
    assert again.name == first.name and again.state == operation_pb2.OPERATION_STATE_COMMITTED
    async with engine.connect() as conn:
        counts = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM outbox.commands) AS queued,"
                    " (SELECT count(*) FROM outbox.resource_ids) AS mapped"
                )
            )
        ).one()
    assert (counts.queued, counts.mapped) == (0, 1)
    other = _loan()
    other.request_id = payload.request_id
    with pytest.raises(InvalidArgument, match="already used"):
        await _record(wallet, other, "APPLY_FOR_LOAN")


async def test_one_archiver_at_a_time(
    clean: None, roles: tuple[AsyncEngine, AsyncEngine], engine: AsyncEngine
) -> None:
    wallet, outbox_engine = roles
    op = await _record(wallet, _transfer(), "TRANSFER_TOKENS")
    await _finish(engine, op, "COMMITTED", projected=True)
    async with engine.connect() as holder:
        await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        try:
            assert await CommandArchiver(outbox_engine, _NOW).archive_once() is None
        finally:
            await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
    assert await CommandArchiver(outbox_engine, _NOW).archive_once() == 1


async def test_the_background_worker_archives_and_stops(
    clean: None, roles: tuple[AsyncEngine, AsyncEngine], engine: AsyncEngine
) -> None:
    wallet, outbox_engine = roles
    op = await _record(wallet, _transfer(), "TRANSFER_TOKENS")
    await _finish(engine, op, "COMMITTED", projected=True)
    async with CommandArchiver(outbox_engine, RetentionSettings(days=0, interval_seconds=0.05)):
        for _ in range(200):
            if await _where(wallet, op) == "archive":
                break
            await asyncio.sleep(0.05)
    assert await _where(wallet, op) == "archive"
