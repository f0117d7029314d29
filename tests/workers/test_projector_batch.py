"""Property: batched projection (projector/batch.py) equals one-by-one projection, on a real PostgreSQL.

The same random chaincode runs as the projector's property test (tests/chaincode/test_properties.py)
are applied twice from an empty read model: one transaction per database transaction with
`apply_event` (the reference), and in random batches with `apply_events` (what the runner does).
Every table the projector writes must end equal, row for row: the read models, `projected_txs`,
the checkpoint, `poison_events` and the money mails in `notify.messages`. Some runs carry a poison
event in the middle (one that fails to decode, one whose handler fails, one the database refuses
inside the pipeline): both ways must stop at that transaction, with everything before it applied,
nothing after it, and the same poison recorded.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format, timestamp_pb2
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2, resources_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import batch, rebuild, store, tables
from projector.decode import PoisonEventError
from projector.runner import Poisoned, apply_event, apply_events
from tests.chaincode import test_properties as chain
from tests.chaincode.fake_ledger import FakeLedger

NAME = "gxchannel/gx"
RUNS = 12


@dataclass(frozen=True)
class Event:
    block_number: int
    tx_id: str
    event_name: str
    payload: bytes


def _poison(kind: int) -> bytes:
    if kind == 0:  # refused by decode: an event kind this projector does not know
        return b'{"events": [{"somethingNew": {}}]}'
    E = events_pb2.LedgerEvent
    if kind == 1:  # a handler fails: no such loan status
        event = E(
            loan_applied=events_pb2.LoanApplied(
                loan=resources_pb2.Loan(loan_id="l-bad", status=resources_pb2.LoanStatus.ValueType(99))
            )
        )
    else:  # the database refuses it (wallets.account_type CHECK), inside the batch's pipeline
        event = E(
            organization_activated=events_pb2.OrganizationActivated(
                organization_id="org-bad", account=resources_pb2.Account(account_id="org-bad")
            )
        )
    message = events_pb2.LedgerEvents(events=[event], time=timestamp_pb2.Timestamp(seconds=1_800_000_000))
    payload: bytes = json_format.MessageToJson(message).encode()
    return payload


@dataclass(frozen=True)
class Case:
    events: list[Event]
    sizes: list[int]
    poison_at: int | None


def _events(payloads: list[bytes]) -> list[Event]:
    # A few transactions per block, as a chain commits them.
    return [Event(n // 3 + 1, f"tx-{n:05d}", "LedgerEvents", p) for n, p in enumerate(payloads)]


def _collect_cases() -> list[Case]:
    cases: list[Case] = []

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
        payloads = list(model.committed)
        poison_at = None
        if data.draw(st.booleans(), "poisoned"):
            poison_at = data.draw(st.integers(0, len(payloads)), "poison position")
            payloads.insert(poison_at, _poison(data.draw(st.integers(0, 2), "poison kind")))
        sizes = data.draw(st.lists(st.integers(1, 40), min_size=1, max_size=8), "batch sizes")
        cases.append(Case(_events(payloads), sizes, poison_at))

    generate()
    return cases


def _batches(events: list[Event], sizes: list[int]) -> list[list[Event]]:
    out, start, n = [], 0, 0
    while start < len(events):
        size = sizes[n % len(sizes)]
        out.append(events[start : start + size])
        start, n = start + size, n + 1
    return out


async def _reset(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        generation = await rebuild.reset(conn, NAME)
        await conn.execute(text("DELETE FROM ledger.poison_events"))
        await conn.execute(text("DELETE FROM notify.messages"))
    return generation


async def _record_poison(engine: AsyncEngine, event: batch.ChaincodeEvent, error: PoisonEventError) -> None:
    # What Projector._halt records.
    async with engine.begin() as conn:
        await store.record_poison(
            conn,
            NAME,
            event.block_number,
            event.tx_id,
            error.event_index,
            event.event_name,
            event.payload,
            str(error),
        )


async def _one_by_one(engine: AsyncEngine, events: list[Event]) -> str | None:
    """The reference: every transaction in its own database transaction; the poison's tx id, if any."""
    generation = await _reset(engine)
    async with engine.connect() as conn:
        for event in events:
            try:
                await apply_event(conn, NAME, generation, *_args(event))
            except PoisonEventError as error:
                await _record_poison(engine, event, error)
                return event.tx_id
    return None


async def _batched(engine: AsyncEngine, events: list[Event], sizes: list[int]) -> str | None:
    generation = await _reset(engine)
    async with engine.connect() as conn:
        for chunk in _batches(events, sizes):
            try:
                await apply_events(conn, NAME, generation, chunk)
            except Poisoned as poisoned:
                await _record_poison(engine, poisoned.event, poisoned.error)
                return poisoned.event.tx_id
    return None


def _args(event: Event) -> tuple[int, str, str, bytes]:
    return event.block_number, event.tx_id, event.event_name, event.payload


async def _snapshot(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """Every row the projector writes (left out: wall-clock times, random ids, the generation resets bump)."""
    queries = {table: f"SELECT * FROM {table} ORDER BY 1, 2" for table in rebuild.READ_MODEL_TABLES}
    # History rows in their order, not their serial ids: a rolled-back batch (a poison in it)
    # consumes sequence values, as any rolled-back transaction does, so the ids may have gaps.
    legs = [c.name for c in tables.transactions.columns if c.name != "id"]
    queries[tables.transactions.fullname] = f"SELECT {', '.join(legs)} FROM ledger.transactions ORDER BY id"
    queries["checkpoint"] = (
        "SELECT name, block_number, tx_id, events_applied, last_event_time FROM ledger.checkpoints"
    )
    queries["poison"] = (
        "SELECT name, block_number, tx_id, event_index, event_name, payload, error FROM ledger.poison_events"
    )
    queries["mail"] = (
        "SELECT dedupe_key, channel, to_user_id, template, payload FROM notify.messages ORDER BY dedupe_key"
    )
    async with engine.connect() as conn:
        return {
            name: [tuple(r) for r in (await conn.execute(text(sql))).all()] for name, sql in queries.items()
        }


def _poison_in_a_batch(case: Case) -> bool:
    # Every chunk goes as a batch, a single transaction too, so a poison's batch always falls back.
    if case.poison_at is None:
        return False
    poison = case.events[case.poison_at]
    return any(poison in chunk for chunk in _batches(case.events, case.sizes))


def _fell_back(caplog: pytest.LogCaptureFixture) -> bool:
    """Whether a batch failed and was applied one by one (right, but not the path under test)."""
    return any("applying them one by one" in record.getMessage() for record in caplog.records)


async def test_batched_projection_equals_one_by_one_for_random_runs(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # Hypothesis drives the chaincode runs in a thread of its own (each run has its own event loop),
    # while this test's loop owns the database engine.
    cases: list[Case] = []
    worker = threading.Thread(target=lambda: cases.extend(_collect_cases()))
    worker.start()
    await asyncio.to_thread(worker.join)
    assert len(cases) == RUNS
    assert any(_poison_in_a_batch(case) for case in cases) and any(case.poison_at is None for case in cases)
    for n, case in enumerate(cases):
        reference_poison = await _one_by_one(engine, case.events)
        expected = await _snapshot(engine)
        caplog.clear()
        batched_poison = await _batched(engine, case.events, case.sizes)
        # Without a poison every batch takes the batched path; with one, its batch falls back.
        assert _fell_back(caplog) == _poison_in_a_batch(case), f"run {n}"
        assert batched_poison == reference_poison, f"run {n}"
        if case.poison_at is not None:
            assert reference_poison == case.events[case.poison_at].tx_id, f"run {n}"
        assert await _snapshot(engine) == expected, f"run {n}"


async def _young_chain() -> list[bytes]:
    """A chain of today (so money mails are recorded): users with identity's UUIDs, genesis, transfers."""
    ledger = FakeLedger()
    ledger.now = datetime.now(UTC)
    payloads: list[bytes] = []

    async def run(function: str, request: object, role: str = "gx_super_admin") -> None:
        out = await ledger.invoke(function, request, role=role)
        assert out.ok, out.message
        payloads.append(out.events[0][1])

    await run("BootstrapSystem", cmd.BootstrapSystemRequest(request_id="boot"))
    countries = cmd.InitializeCountriesRequest(request_id="countries")
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    await run("InitializeCountries", countries)
    users = [str(uuid.uuid4()) for _ in range(6)]
    for user in users:
        request = cmd.CreateUserRequest(
            user_id=user, country_code="LK", date_of_birth="1990-01-01", request_id=user
        )
        await run("CreateUser", request, "gx_admin")
    for i in range(30):
        transfer = cmd.TransferTokensRequest(
            request_id=str(uuid.uuid4()),
            from_account_id=users[i % len(users)],
            to_account_id=users[(i * 7 + 1) % len(users)],
            amount_qirat=1_000 + i,
        )
        await run("TransferTokens", transfer)
    return payloads


@pytest.mark.parametrize("sizes", [[500], [1, 7, 3], [2]])
async def test_batched_money_mails_equal_one_by_one_and_a_rebuild_mails_nobody_again(
    engine: AsyncEngine, sizes: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    events = _events(await _young_chain())
    await _one_by_one(engine, events)
    expected = await _snapshot(engine)
    # Genesis and every transfer credit a user of identity's: each has its one mail.
    assert len(expected["mail"]) == 6 + 30
    await _batched(engine, events, sizes)
    assert await _snapshot(engine) == expected
    assert not _fell_back(caplog)
    # A rebuild replays the same young transactions: their mails exist, nothing new is recorded,
    # and the read models end equal.
    generation = await _reset_read_models_only(engine)
    async with engine.connect() as conn:
        for chunk in _batches(events, sizes):
            await apply_events(conn, NAME, generation, chunk)
    again = await _snapshot(engine)
    assert again == expected
    assert not _fell_back(caplog)


async def _reset_read_models_only(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        return await rebuild.reset(conn, NAME)


async def test_a_rebuild_during_a_batch_writes_nothing(engine: AsyncEngine) -> None:
    events = _events(await _young_chain())
    old_generation = await _reset(engine)
    await _reset(engine)
    async with engine.connect() as conn:
        assert await batch.apply_batch(conn, NAME, old_generation, events[:10]) is False
    snapshot = await _snapshot(engine)
    assert snapshot["ledger.wallets"] == [] and snapshot["ledger.projected_txs"] == []


def _balance_chain() -> list[Event]:
    """Transfers that give one batch every shape of balance fold (projector/balances.py), each
    checked against one by one: a wallet set and then credited (timed, above and at or below the
    threshold, so a timer starts and one clears), a wallet first credited (created) and then set,
    only fees and untimed credits (added up), timed credits without a set (applied one by one), a
    self-transfer, and wallets that exist before the batch."""
    t0 = 1_800_000_000

    def stamp(n: int) -> timestamp_pb2.Timestamp:
        return timestamp_pb2.Timestamp(seconds=t0 + n)

    def credit(amount: int, timed: bool, threshold: int) -> events_pb2.AccruedCredit:
        return events_pb2.AccruedCredit(
            amount_qirat=amount, velocity_timer=timed, velocity_tax_threshold_qirat=threshold
        )

    def transfer(n: int, src: str, dst: str, amount: int, balance: int, **more: object) -> bytes:
        E = events_pb2.LedgerEvent
        events = [
            E(
                transfer_completed=events_pb2.TransferCompleted(
                    transfer_id=f"t{n}",
                    from_account_id=src,
                    to_account_id=dst,
                    amount_qirat=amount,
                    from_balance_qirat=balance,
                    **more,  # type: ignore[arg-type]
                )
            ),
            E(fee_collected=events_pb2.FeeCollected(transfer_id=f"t{n}", payer_account_id=src, fee_qirat=n)),
        ]
        message = events_pb2.LedgerEvents(events=events, time=stamp(n), request_id=f"r{n}")
        payload: bytes = json_format.MessageToJson(message).encode()
        return payload

    a, b, c, d, e, f = (f"u-{name}" for name in "abcdef")
    payloads = [
        transfer(1, a, b, 500, 1_000, to_credit=credit(500, True, 1_000)),
        transfer(
            2,
            b,
            a,
            2_000,
            5_000,
            to_credit=credit(2_000, True, 1_000),
            from_velocity_timer_start_time=stamp(2),
        ),
        transfer(3, c, b, 100, 9_000, to_credit=credit(100, True, 10_000)),
        transfer(4, a, d, 300, 2_700, to_credit=credit(300, True, 100)),
        transfer(5, d, e, 50, 250, to_credit=credit(50, False, 0), from_velocity_timer_start_time=stamp(4)),
        transfer(6, a, e, 60, 2_640, to_credit=credit(60, False, 0)),
        transfer(7, a, f, 70, 2_570, to_credit=credit(70, True, 100)),
        transfer(8, c, f, 80, 8_920, to_credit=credit(80, True, 100)),
        transfer(9, c, c, 10, 8_910, to_balance_qirat=8_910),
        transfer(10, e, b, 5, 105, to_credit=credit(5, True, 5_100)),
    ]
    return _events(payloads)


@pytest.mark.parametrize("sizes", [[10], [3, 7], [1, 4, 5], [2]])
async def test_folded_balances_equal_one_by_one(
    engine: AsyncEngine, sizes: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    events = _balance_chain()
    await _one_by_one(engine, events)
    expected = await _snapshot(engine)
    assert len(expected["ledger.wallets"]) == 7  # six users and the fund
    await _batched(engine, events, sizes)
    assert await _snapshot(engine) == expected
    assert not _fell_back(caplog)
