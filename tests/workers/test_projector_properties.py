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
import uuid
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as cmd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import ledger_rules as rules
from projector import rebuild, store
from projector.runner import apply_event
from tests.chaincode import test_properties as chain
from tests.chaincode.fake_ledger import FakeLedger, Outcome
from tests.chaincode.projection import ledger_view

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
    # Balance and velocity timer as the ledger defines them: the record with its pending credits
    # (accrual keys) folded in, which is also what GetBalance answers.
    view = ledger_view(world)
    out = {}
    for key, raw in world.items():
        if key.startswith("acct~"):
            acct = json.loads(raw)
            account_id = key[len("acct~") :]
            balance, timer = view[account_id]
            out[account_id] = (balance, bool(acct.get("frozen", False)), _ts(timer))
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


# The direction of each history leg by (type, leg): amounts are positive, the type says the way.
_SIGN = {
    ("SENT", 0): -1,
    ("RECEIVED", 1): 1,
    ("ORG_TRANSFER", 0): -1,
    ("ORG_TRANSFER", 1): 1,
    ("FEE", 0): -1,
    ("FEE", 1): 1,
    ("GENESIS", 0): 1,
    ("GENESIS", 1): -1,
    ("GENESIS", 2): 1,
    ("GENESIS", 3): -1,
    ("TAX", 0): -1,
    ("TAX", 1): 1,
    ("TAX", 2): 1,
    ("LOAN_DISBURSEMENT", 0): 1,
    ("LOAN_DISBURSEMENT", 1): -1,
    ("LOAN_REPAYMENT", 0): -1,
    ("LOAN_REPAYMENT", 1): 1,
}


async def _history_sums(engine: AsyncEngine) -> dict[str, int]:
    """Each wallet's minted amount plus the signed sum of its history legs (should be its balance)."""
    sums = {pool: amount for pool, amount in rules.POOLS}
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT wallet_id, type, leg, amount_qirat FROM ledger.transactions"))
        ).all()
    for r in rows:
        assert r.amount_qirat > 0, f"a {r.type} leg of {r.amount_qirat} Qirat on {r.wallet_id}"
        sums[r.wallet_id] = sums.get(r.wallet_id, 0) + _SIGN[(r.type, r.leg)] * r.amount_qirat
    return sums


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
        # The history explains every balance: minted + signed legs == balance, leg amounts positive.
        history = await _history_sums(engine)
        assert {a: history.get(a, 0) for a in accounts} == {a: v[0] for a, v in accounts.items()}, f"run {n}"
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


async def test_a_one_qirat_velocity_tax_writes_no_zero_history_leg(engine: AsyncEngine) -> None:
    """A tax of 1 Qirat gives the treasury 70% of it, rounded down: 0. No 0-Qirat leg may appear."""
    ledger = FakeLedger()
    payloads: list[bytes] = []

    async def run(function: str, request: Message, role: str = "gx_super_admin") -> Outcome:
        out = await ledger.invoke(function, request, role=role)
        assert out.ok, out.message
        payloads.append(out.events[0][1])
        return out

    await run("BootstrapSystem", cmd.BootstrapSystemRequest(request_id="boot"))
    countries = cmd.InitializeCountriesRequest(request_id="countries")
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    await run("InitializeCountries", countries)
    # 34 Qirat above the threshold at 3% is 1 Qirat of tax (rounded down).
    threshold = 500 * rules.QIRAT_PER_GX - 34
    await run(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(
            parameter="velocity_tax_threshold_qirat", value=threshold, request_id="p"
        ),
    )
    user = str(uuid.uuid4())
    request = cmd.CreateUserRequest(
        user_id=user, country_code="LK", date_of_birth="1990-01-01", request_id="u"
    )
    await run("CreateUser", request, "gx_admin")
    ledger.advance(days=361)
    out = await run(
        "ApplyVelocityTax", cmd.ApplyVelocityTaxRequest(account_id=user, request_id="tax"), "gx_admin"
    )
    taxed = out.result(cmd.ApplyVelocityTaxResult)
    assert (taxed.tax_qirat, taxed.treasury_qirat, taxed.charity_qirat) == (1, 0, 1)

    async with engine.begin() as conn:
        await rebuild.reset(conn, NAME)
    await _apply(engine, payloads, twice=False)
    assert await _read_model(engine) == _ledger_accounts(ledger.world)
    async with engine.connect() as conn:
        legs = (
            await conn.execute(
                text(
                    "SELECT wallet_id, leg, amount_qirat FROM ledger.transactions WHERE type = 'TAX' ORDER BY leg"
                )
            )
        ).all()
    assert [tuple(r) for r in legs] == [(user, 0, 1), (rules.CHARITABLE_POOL, 2, 1)]
    history = await _history_sums(engine)
    assert history[user] == ledger.balance(user)
