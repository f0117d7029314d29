"""Property: the projector, fed the LedgerEvents of random chaincode runs, ends equal to the ledger.

The runs come from the chaincode property test (tests/chaincode/test_properties.py: random command
sequences on the fake peer, every invariant checked per step). Their committed transactions, replays
included, are applied with `apply_event` to a real PostgreSQL; the read model's wallets must then
equal the ledger's accounts (balance, frozen, velocity timer), and applying every transaction twice,
or the whole chain again, must change nothing.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import rebuild, store
from projector.runner import apply_event
from tests.chaincode import test_properties as chain

NAME = "gxchannel/gx"
RUNS = 30


def _collect_runs() -> list[tuple[list[bytes], dict[str, tuple[int, bool, datetime | None]]]]:
    """RUNS random chaincode runs: each one's committed payloads and its final accounts."""
    runs: list[tuple[list[bytes], dict[str, tuple[int, bool, datetime | None]]]] = []

    @settings(
        max_examples=RUNS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def generate(data: st.DataObject) -> None:
        model = asyncio.run(chain.program(data))
        runs.append((model.committed, _ledger_accounts(model.ledger.world)))

    generate()
    return runs


def _ts(stored: str | None) -> datetime | None:
    if stored is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(stored)
    return stamp.ToDatetime(tzinfo=UTC)


def _ledger_accounts(world: dict[str, bytes]) -> dict[str, tuple[int, bool, datetime | None]]:
    balances = chain.balances(world)
    out = {}
    for key, raw in world.items():
        if key.startswith("acct~"):
            acct = json.loads(raw)
            account_id = key[len("acct~") :]
            out[account_id] = (
                balances[account_id],
                bool(acct.get("frozen", False)),
                _ts(acct.get("velocityTimerStartTime")),
            )
    return out


async def _read_model(engine: AsyncEngine) -> dict[str, tuple[int, bool, datetime | None]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT wallet_id, balance_qirat, frozen, velocity_timer_start_time FROM ledger.wallets")
            )
        ).all()
        # A treasury's lock is the chain's `frozen` flag on its account; the read model keeps it as
        # the treasuries view's state (LOCKED/ACTIVE), not as a wallet freeze.
        locked = {
            r.account_id: r.state == "LOCKED"
            for r in (await conn.execute(text("SELECT account_id, state FROM ledger.treasuries"))).all()
        }
    return {
        r.wallet_id: (r.balance_qirat, locked.get(r.wallet_id, r.frozen), r.velocity_timer_start_time)
        for r in rows
    }


async def _snapshot(engine: AsyncEngine) -> dict[str, list[tuple]]:
    tables = {}
    async with engine.connect() as conn:
        for table in rebuild.READ_MODEL_TABLES:
            rows = (await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))).all()
            tables[table] = [tuple(r) for r in rows]
    return tables


async def _apply(engine: AsyncEngine, payloads: list[bytes], twice: bool) -> None:
    async with engine.connect() as conn:
        async with conn.begin():
            generation = (await store.load_checkpoint(conn, NAME)).generation
        for n, payload in enumerate(payloads):
            block, tx_id = n + 1, f"tx-{n + 1:05d}"
            assert await apply_event(conn, NAME, generation, block, tx_id, "LedgerEvents", payload) is True
            if twice:
                # The same transaction delivered again (a stream re-opened from an older position).
                assert (
                    await apply_event(conn, NAME, generation, block, tx_id, "LedgerEvents", payload) is False
                )


async def test_projected_wallets_equal_the_ledger_for_random_runs(engine: AsyncEngine) -> None:
    # Hypothesis drives the chaincode runs in a thread of its own (each run has its own event loop),
    # while this test's loop owns the database engine.
    runs: list = []
    worker = threading.Thread(target=lambda: runs.extend(_collect_runs()))
    worker.start()
    await asyncio.to_thread(worker.join)
    assert len(runs) == RUNS
    for n, (payloads, accounts) in enumerate(runs):
        twice = n % 2 == 1
        async with engine.begin() as conn:
            await rebuild.reset(conn, NAME)
        await _apply(engine, payloads, twice)
        assert await _read_model(engine) == accounts, f"run {n}"
        if not twice:
            continue
        # A whole replay of the chain changes nothing either.
        before = await _snapshot(engine)
        async with engine.connect() as conn:
            async with conn.begin():
                generation = (await store.load_checkpoint(conn, NAME)).generation
            for i, payload in enumerate(payloads):
                block, tx_id = i + 1, f"tx-{i + 1:05d}"
                assert (
                    await apply_event(conn, NAME, generation, block, tx_id, "LedgerEvents", payload) is False
                )
        assert await _snapshot(engine) == before
