"""The worker's hot path against a real PostgreSQL: the one-statement SQL runs the same on an
autocommit driver pool (the worker process) and on the engine (outbox/statements.py); recording an
outcome NOTIFYs the workers only when its hand-over may have left a freed command behind; and a
command given back with a delay is claimed again when it is due, not at the next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fabric_client import Transaction
from fabric_client.retry import RetryPolicy
from outbox.commands import CommandSpec
from outbox.metrics import OutboxMetrics
from outbox.processor import CommandProcessor, ProcessorSettings
from outbox.repository import ClaimedCommand, OutboxRepository
from outbox.worker import OutboxWorker, WorkerSettings
from services.common import db
from services.common.names import OUTBOX_NOTIFY_CHANNEL
from tests.workers.conftest import command_row, new_id, pay, quiet_queue, record, wait_until
from tests.workers.test_outbox_processor import MVCC, VALID, ScriptedPeer

_SENTINEL = "test-sentinel"


@pytest.fixture(params=["pool", "engine"])
async def repo(
    request: pytest.FixtureRequest, engine: AsyncEngine, migrated_url: str
) -> AsyncIterator[OutboxRepository]:
    """A repository on an autocommit driver pool (as `python -m outbox` builds it) or on the engine alone."""
    await quiet_queue(engine)
    if request.param == "engine":
        yield OutboxRepository(engine, "w1", lease_seconds=30, metrics=OutboxMetrics(CollectorRegistry()))
        return
    async with AsyncConnectionPool(
        db.libpq_dsn(migrated_url), min_size=1, max_size=3, kwargs={"autocommit": True}, open=False
    ) as pool:
        yield OutboxRepository(
            engine, "w1", lease_seconds=30, pool=pool, metrics=OutboxMetrics(CollectorRegistry())
        )


async def _notices_until_sentinel(listener: psycopg.AsyncConnection[object], migrated_url: str) -> list[str]:
    """Every notice delivered before a sentinel sent now: NOTIFYs arrive in commit order, so a
    notice of a statement that committed earlier cannot come after it (no waiting on a clock)."""
    async with await psycopg.AsyncConnection.connect(db.libpq_dsn(migrated_url), autocommit=True) as other:
        await other.execute("SELECT pg_notify(%s, %s)", (OUTBOX_NOTIFY_CHANNEL, _SENTINEL))
    seen: list[str] = []
    async for notice in listener.notifies(timeout=30):
        if notice.payload == _SENTINEL:
            return seen
        seen.append(notice.payload)
    raise AssertionError(f"the sentinel never arrived; saw {seen}")


async def test_claim_store_and_record_run_the_same_on_either_executor(
    repo: OutboxRepository, engine: AsyncEngine
) -> None:
    alice, bob = new_id(), new_id()
    a1 = await record(engine, "TRANSFER_TOKENS", pay(alice, new_id()))
    b1 = await record(engine, "TRANSFER_TOKENS", pay(bob, new_id()))
    a2 = await record(engine, "TRANSFER_TOKENS", pay(alice, new_id()))
    claimed = await repo.claim(10)
    assert {cmd.id for cmd in claimed} == {a1, b1}  # a2 waits for a1
    first = next(cmd for cmd in claimed if cmd.id == a1)
    assert (first.command_type, first.status, first.attempts, first.tx_id) == (
        "TRANSFER_TOKENS",
        "PENDING",
        0,
        None,
    )
    assert first.payload_json and first.created_at.tzinfo is not None
    async with engine.begin() as conn:  # another worker took b1 over
        await conn.execute(text("UPDATE outbox.commands SET lease_owner = 'w2' WHERE id = :id"), {"id": b1})
    stored = await asyncio.gather(
        repo.record_endorsed(a1, "tx-a1", b"\x00env-a1"), repo.record_endorsed(b1, "tx-b1", b"env-b1")
    )
    assert list(stored) == [True, False]
    row = await command_row(engine, a1)
    assert (row.status, row.tx_id, bytes(row.envelope)) == ("SUBMITTED", "tx-a1", b"\x00env-a1")  # type: ignore[attr-defined]
    handed: list[ClaimedCommand] = []
    repo.hand_over = handed.extend
    recorded = await asyncio.gather(
        repo.record_committed(a1, 9, '{"ok": 1}'), repo.record_committed(b1, 9, None)
    )
    assert list(recorded) == [True, False]
    assert [cmd.id for cmd in handed] == [a2]
    row = await command_row(engine, a1)
    assert (row.status, row.block_number, row.result_json) == ("COMMITTED", 9, '{"ok": 1}')  # type: ignore[attr-defined]
    assert (await command_row(engine, a2)).lease_owner == "w1"  # type: ignore[attr-defined]
    assert await repo.reschedule(a2, 0.0, "SUBMIT_FAILED", "50% of nothing", count_attempt=True)
    row = await command_row(engine, a2)
    assert (row.attempts, row.error_message, row.lease_owner) == (1, "50% of nothing", None)  # type: ignore[attr-defined]
    assert await repo.record_failed(b1, "X", "y") is False  # not ours
    # One round trip each, the grouped ones for both commands (gx_outbox_statements_total).
    counted = {
        sample.labels["statement"]: sample.value
        for metric in repo._count.collect()  # type: ignore[union-attr]
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
    assert counted == {"claim": 1, "store_envelopes": 1, "record_committed": 1, "update": 2}


async def test_no_wake_up_when_the_freed_successor_was_handed_over(
    repo: OutboxRepository, engine: AsyncEngine, migrated_url: str
) -> None:
    sender = new_id()
    s1 = await record(engine, "TRANSFER_TOKENS", pay(sender, new_id()))
    s2 = await record(engine, "TRANSFER_TOKENS", pay(sender, new_id()))
    await record(engine, "TRANSFER_TOKENS", pay(sender, new_id()))  # behind s2: not freed by s1
    assert [cmd.id for cmd in await repo.claim(10)] == [s1]
    handed: list[ClaimedCommand] = []
    repo.hand_over = handed.extend
    async with await psycopg.AsyncConnection.connect(db.libpq_dsn(migrated_url), autocommit=True) as listener:
        await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")
        assert await repo.record_committed(s1, 3, None)
        assert [cmd.id for cmd in handed] == [s2]
        assert await _notices_until_sentinel(listener, migrated_url) == []
        # Without a hand-over the same finish wakes the workers (the successor is theirs to claim).
        repo.hand_over = None
        assert await repo.record_committed(s2, 4, None)
        assert await _notices_until_sentinel(listener, migrated_url) == [str(s2)]


async def test_a_debit_that_frees_a_run_of_credits_wakes_the_workers_for_the_ones_not_handed_over(
    repo: OutboxRepository, engine: AsyncEngine, migrated_url: str
) -> None:
    shop = new_id()
    payout = await record(engine, "TRANSFER_TOKENS", pay(shop, new_id()))  # holds shop EXCLUSIVE
    p1 = await record(
        engine, "TRANSFER_TOKENS", pay(new_id(), shop)
    )  # credits: shop SHARED, wait for the payout
    p2 = await record(engine, "TRANSFER_TOKENS", pay(new_id(), shop))
    assert [cmd.id for cmd in await repo.claim(10)] == [payout]
    handed: list[ClaimedCommand] = []
    repo.hand_over = handed.extend
    async with await psycopg.AsyncConnection.connect(db.libpq_dsn(migrated_url), autocommit=True) as listener:
        await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")
        assert await repo.record_committed(payout, 5, None)
        assert [cmd.id for cmd in handed] == [p1]  # one per finished command: the slot it frees
        assert await _notices_until_sentinel(listener, migrated_url) == [str(payout)]
    assert [cmd.id for cmd in await OutboxRepository(engine, "w2", lease_seconds=30).claim(10)] == [p2]


async def test_a_command_given_back_with_a_delay_is_claimed_again_when_due_not_at_the_next_poll(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    peer = ScriptedPeer(engine, statuses=[MVCC, VALID])  # loses a read conflict once, then commits
    processor = CommandProcessor(
        repo,
        peer,
        OutboxMetrics(CollectorRegistry()),
        ProcessorSettings(
            retry=RetryPolicy(max_attempts=10, initial_backoff=0.0, max_backoff=0.0), conflict_backoff=0.05
        ),
    )
    # An hour between polls and no LISTEN: only the rescheduled command's own due time can wake the loop.
    worker = OutboxWorker(
        repo,
        processor,
        OutboxMetrics(CollectorRegistry()),
        WorkerSettings(poll_interval=3600),
        listen_dsn=None,
    )
    command_id = await record(engine, "TRANSFER_TOKENS", pay(new_id(), new_id()))
    runner = asyncio.create_task(worker.run())
    try:

        async def committed() -> bool:
            return (await command_row(engine, command_id)).status == "COMMITTED"  # type: ignore[attr-defined,no-any-return]

        await wait_until(committed, limit=60)  # a hang (waiting for the hourly poll) fails here
    finally:
        await worker.shutdown()
        await runner
    assert len(peer.endorsed) == 2  # rebuilt after the conflict, by the wake-up of its due time


async def test_paying_back_and_forth_hands_over_without_waking_the_workers(
    repo: OutboxRepository, engine: AsyncEngine, migrated_url: str
) -> None:
    a, b = new_id(), new_id()
    t1 = await record(engine, "TRANSFER_TOKENS", pay(a, b))
    t2 = await record(engine, "TRANSFER_TOKENS", pay(b, a))  # after t1: it debits what t1 credits
    t3 = await record(engine, "TRANSFER_TOKENS", pay(a, b))  # after t2: it debits a, which t2 credits
    assert [cmd.id for cmd in await repo.claim(10)] == [t1]
    handed: list[ClaimedCommand] = []
    repo.hand_over = handed.extend
    async with await psycopg.AsyncConnection.connect(db.libpq_dsn(migrated_url), autocommit=True) as listener:
        await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")
        # On a (t1 EXCLUSIVE) the next holder is t2, SHARED and handed over, then t3, EXCLUSIVE:
        # nothing else is freed, so nobody is woken.
        assert await repo.record_committed(t1, 6, None)
        assert [cmd.id for cmd in handed] == [t2]
        assert await _notices_until_sentinel(listener, migrated_url) == []
        assert await repo.record_committed(t2, 7, None)
        assert [cmd.id for cmd in handed] == [t2, t3]
        assert await _notices_until_sentinel(listener, migrated_url) == []


class _NoSecondParse(ScriptedPeer):
    """A peer whose endorsement answers `{"n": 7}`; reading a result back out of an envelope fails."""

    async def endorse(self, spec: CommandSpec, payload_json: str) -> Transaction:
        tx = await super().endorse(spec, payload_json)
        return Transaction(tx.tx_id, tx.channel_id, tx.envelope_bytes, b'{"n": 7}')

    def outcome_of(self, envelope: bytes) -> tuple[bytes, bytes]:
        raise AssertionError("the envelope was parsed again for a result the endorsement gave")


async def test_a_command_endorsed_here_records_the_answer_of_its_endorsement(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    registry = CollectorRegistry()
    processor = CommandProcessor(repo, _NoSecondParse(engine), OutboxMetrics(registry), ProcessorSettings())
    command_id = await record(engine, "TRANSFER_TOKENS", pay(new_id(), new_id()))
    (command,) = await repo.claim(10)
    await processor.process(command)
    row = await command_row(engine, command_id)
    assert (row.status, row.result_json) == ("COMMITTED", '{"n": 7}')  # type: ignore[attr-defined]
    # Where its time went, step by step (gx_outbox_step_seconds), each step once.
    steps = ("endorse", "store", "submit", "commit_status", "record")
    assert [registry.get_sample_value("gx_outbox_step_seconds_count", {"step": s}) for s in steps] == [
        1.0
    ] * 5
