"""The grouped outbox updates against a real PostgreSQL: envelopes endorsed in the same moment are
stored in one statement and the outcomes of one block recorded in one, each row still fenced by its
own lease, each caller told whether ITS row was written, and a finished command's successors woken.
"""

from __future__ import annotations

import asyncio
import uuid

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from outbox.repository import OutboxRepository
from services.common import db
from services.common.names import OUTBOX_NOTIFY_CHANNEL
from tests.workers.conftest import command_row, new_id, pay, quiet_queue, record


async def _steal(engine: AsyncEngine, command_id: uuid.UUID) -> None:
    """Another worker took this command over (its lease ran out)."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET lease_owner = 'w2' WHERE id = :id"), {"id": command_id}
        )


async def test_envelopes_of_one_moment_are_stored_in_one_statement_each_fenced_by_its_lease(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    ids = [await record(engine, "TRANSFER_TOKENS", pay(new_id(), new_id())) for _ in range(6)]
    assert {cmd.id for cmd in await repo.claim(10)} == set(ids)
    await _steal(engine, ids[3])
    envelopes = {cid: f"envelope-{i}".encode() * 50 for i, cid in enumerate(ids)}
    stored = await asyncio.gather(*(repo.record_endorsed(cid, f"tx-{cid}", envelopes[cid]) for cid in ids))
    assert stored == [i != 3 for i in range(6)]
    assert repo.statements == 1
    for i, cid in enumerate(ids):
        row = await command_row(engine, cid)
        if i == 3:  # the new owner's row is untouched
            assert (row.status, row.tx_id, row.envelope) == ("PENDING", None, None)  # type: ignore[attr-defined]
        else:
            assert (row.status, row.tx_id, bytes(row.envelope)) == ("SUBMITTED", f"tx-{cid}", envelopes[cid])  # type: ignore[attr-defined]


async def test_outcomes_of_one_block_are_recorded_in_one_statement_and_wake_the_successors(
    engine: AsyncEngine, migrated_url: str
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    senders = [new_id() for _ in range(4)]
    firsts = [await record(engine, "TRANSFER_TOKENS", pay(s, new_id())) for s in senders]
    seconds = [await record(engine, "TRANSFER_TOKENS", pay(s, new_id())) for s in senders]
    assert {cmd.id for cmd in await repo.claim(10)} == set(firsts)  # each sender's second waits
    await _steal(engine, firsts[0])
    results: list[str | None] = [None, None, '{"ok": 2}', None]
    async with await psycopg.AsyncConnection.connect(db.libpq_dsn(migrated_url), autocommit=True) as listener:
        await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")
        before = repo.statements
        recorded = await asyncio.gather(
            *(repo.record_committed(cid, 40 + i, results[i]) for i, cid in enumerate(firsts))
        )
        assert recorded == [False, True, True, True]
        assert repo.statements == before + 1
        woken: set[str] = set()
        async for notice in listener.notifies(timeout=5, stop_after=3):
            woken.add(notice.payload)
        assert woken == {str(cid) for cid in firsts[1:]}
    for i, cid in enumerate(firsts[1:], start=1):
        row = await command_row(engine, cid)
        assert (row.status, row.block_number, row.result_json, row.lease_owner) == (  # type: ignore[attr-defined]
            "COMMITTED",
            40 + i,
            results[i],
            None,
        )
    assert (await command_row(engine, firsts[0])).status == "PENDING"  # type: ignore[attr-defined]
    # The finished senders' next transfers are runnable now; the stolen one's still waits.
    assert {cmd.id for cmd in await repo.claim(10)} == set(seconds[1:])


async def test_recording_an_outcome_hands_over_the_successors_it_frees_and_only_those(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    alice, bob, carol, shop = new_id(), new_id(), new_id(), new_id()
    a1 = await record(engine, "TRANSFER_TOKENS", pay(alice, new_id()))
    b1 = await record(engine, "TRANSFER_TOKENS", pay(bob, shop))
    c1 = await record(engine, "TRANSFER_TOKENS", pay(carol, shop))
    a2 = await record(engine, "TRANSFER_TOKENS", pay(alice, new_id()))  # waits for a1 only
    payout = await record(engine, "TRANSFER_TOKENS", pay(shop, new_id()))  # waits for b1 AND c1
    assert {cmd.id for cmd in await repo.claim(10)} == {a1, b1, c1}
    handed: list[uuid.UUID] = []
    repo.hand_over = lambda commands: handed.extend(cmd.id for cmd in commands)
    # a1 and b1 finish together: a2 is free now, the payout still waits for c1 (in flight).
    recorded = await asyncio.gather(repo.record_committed(a1, 7, None), repo.record_committed(b1, 7, None))
    assert list(recorded) == [True, True]
    assert handed == [a2]
    row = await command_row(engine, a2)
    assert row.lease_owner == "w1" and row.lease_expires_at is not None  # type: ignore[attr-defined]
    # Another worker's claim cannot take what was handed over.
    assert await OutboxRepository(engine, "w2", lease_seconds=30).claim(10) == []
    # Stolen: c1 is not recorded, so nothing it holds back is handed over.
    await _steal(engine, c1)
    assert await repo.record_committed(c1, 8, None) is False
    assert handed == [a2]
    # Without a hand-over (a repository on its own, a stopping worker) nothing is claimed.
    repo.hand_over = None
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE outbox.commands SET lease_owner = 'w1' WHERE id = :id"), {"id": c1})
    assert await repo.record_committed(c1, 8, None) is True
    assert (await command_row(engine, payout)).lease_owner is None  # type: ignore[attr-defined]
    assert {cmd.id for cmd in await repo.claim(10)} == {payout}
