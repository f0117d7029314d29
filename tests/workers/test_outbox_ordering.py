"""The outbox's ordering against a real PostgreSQL: the claim query runs a command only once every
earlier command it conflicts with has finished, across several workers, and agrees with the pure
rule in services/common/ordering.py on random queues.

No peer here: claiming is the whole point (the fault tests with real processes and the devnet are
in test_outbox_faults.py).
"""

from __future__ import annotations

import asyncio
import random
import uuid

from gx.ledger.v1 import commands_pb2 as c
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fabric_client import CommitStatus, Transaction
from outbox.metrics import OutboxMetrics
from outbox.processor import CommandProcessor, ProcessorSettings
from outbox.repository import OutboxRepository
from services.common import ordering
from services.common.outbox import find_prerequisite, record_command
from tests.workers.conftest import command_row, new_id, pay, quiet_queue, record


async def _finish(engine: AsyncEngine, *ids: uuid.UUID, status: str = "COMMITTED") -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE outbox.commands SET status = :s, lease_owner = NULL, lease_expires_at = NULL"
                " WHERE id = ANY(:ids)"
            ),
            {"s": status, "ids": list(ids)},
        )


async def _release(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE outbox.commands SET lease_owner = NULL, lease_expires_at = NULL"
                " WHERE status IN ('PENDING', 'SUBMITTED')"
            )
        )


async def _claimable(repo: OutboxRepository, engine: AsyncEngine) -> set[uuid.UUID]:
    """What a claim hands out right now (leases given back afterwards, so it is a pure probe)."""
    claimed = {cmd.id for cmd in await repo.claim(1000)}
    await _release(engine)
    return claimed


async def test_recording_stores_the_keys_and_the_recording_order(engine: AsyncEngine) -> None:
    alice, shop = new_id(), new_id()
    first = await record(engine, "TRANSFER_TOKENS", pay(alice, shop))
    second = await record(engine, "TRANSFER_TOKENS", pay(shop, alice))
    row1, row2 = await command_row(engine, first), await command_row(engine, second)
    assert sorted(row1.order_keys) == sorted([f"account:{alice}", f"account:{shop}", "system"])
    assert row1.exclusive_keys == [f"account:{alice}"]
    assert row2.exclusive_keys == [f"account:{shop}"]
    assert row1.seq < row2.seq and row1.depends_on is None


async def test_transfers_from_one_sender_run_one_at_a_time_in_recorded_order(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    alice = new_id()
    ids = [await record(engine, "TRANSFER_TOKENS", pay(alice, new_id())) for _ in range(5)]
    for i, cid in enumerate(ids):
        assert await _claimable(repo, engine) == {cid}, f"step {i}"
        await _finish(engine, cid, status="FAILED" if i == 2 else "COMMITTED")  # FAILED is finished too
    assert await _claimable(repo, engine) == set()


async def test_payments_to_one_merchant_run_together_and_its_own_send_waits_for_them(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    shop = new_id()
    payers = [new_id() for _ in range(8)]
    credits = [await record(engine, "TRANSFER_TOKENS", pay(p, shop)) for p in payers]
    payout = await record(engine, "TRANSFER_TOKENS", pay(shop, payers[0]))  # the merchant's own send
    later_credit = await record(engine, "TRANSFER_TOKENS", pay(payers[1], shop))
    # Eight credits at once: a hot recipient is not a queue. The payout waits for the credits
    # recorded before it; the later credit waits for the payout (and for payer 1's first payment).
    assert await _claimable(repo, engine) == set(credits)
    await _finish(engine, *credits[:7])
    assert await _claimable(repo, engine) == {credits[7]}
    await _finish(engine, credits[7])
    assert await _claimable(repo, engine) == {payout}
    await _finish(engine, payout)
    assert await _claimable(repo, engine) == {later_credit}


async def test_bootstrap_countries_and_users_recorded_back_to_back_run_in_that_order(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    boot = await record(engine, "BOOTSTRAP_SYSTEM", c.BootstrapSystemRequest())
    countries = await record(
        engine,
        "INITIALIZE_COUNTRY",
        c.InitializeCountriesRequest(
            countries=[c.CountryShare(country_code="LK", name="Sri Lanka", share_bps=100)]
        ),
    )
    users = [
        await record(
            engine,
            "CREATE_USER",
            c.CreateUserRequest(user_id=new_id(), country_code="LK", date_of_birth="1990-01-01"),
        )
        for _ in range(3)
    ]
    other = await record(
        engine,
        "CREATE_USER",
        c.CreateUserRequest(user_id=new_id(), country_code="US", date_of_birth="1990-01-01"),
    )
    assert await _claimable(repo, engine) == {boot}
    await _finish(engine, boot)
    assert await _claimable(repo, engine) == {countries}
    await _finish(engine, countries)
    # Genesis updates the country's phase counters: one country's users go one by one, another
    # country's alongside.
    assert await _claimable(repo, engine) == {users[0], other}
    await _finish(engine, users[0], other)
    assert await _claimable(repo, engine) == {users[1]}


async def test_a_pause_is_a_barrier_between_earlier_and_later_commands(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    before = [await record(engine, "TRANSFER_TOKENS", pay(new_id(), new_id())) for _ in range(3)]
    pause = await record(engine, "PAUSE_SYSTEM", c.PauseSystemRequest(reason="maintenance"))
    after = await record(engine, "TRANSFER_TOKENS", pay(new_id(), new_id()))
    assert await _claimable(repo, engine) == set(before)
    await _finish(engine, *before)
    assert await _claimable(repo, engine) == {pause}
    await _finish(engine, pause)
    assert await _claimable(repo, engine) == {after}


async def test_several_workers_claim_concurrently_and_never_two_ordered_commands_at_once(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    senders = [new_id() for _ in range(4)]
    ids = {s: [await record(engine, "TRANSFER_TOKENS", pay(s, new_id())) for _ in range(6)] for s in senders}
    seq_of = {cid: i for chain in ids.values() for i, cid in enumerate(chain)}
    sender_of = {cid: s for s, chain in ids.items() for cid in chain}
    repos = [OutboxRepository(engine, f"w{i}", lease_seconds=30) for i in range(4)]
    finished: dict[str, list[int]] = {s: [] for s in senders}
    claims: list[uuid.UUID] = []

    async def work(repo: OutboxRepository) -> None:
        for _ in range(200):
            got = await repo.claim(3)
            claims.extend(cmd.id for cmd in got)
            for cmd in got:
                # While a worker holds a command, nothing else of its sender may be handed out.
                await asyncio.sleep(0.005)
                finished[sender_of[cmd.id]].append(seq_of[cmd.id])
                await _finish(engine, cmd.id)
            if sum(map(len, finished.values())) == 24:
                return
            await asyncio.sleep(0.002)

    await asyncio.gather(*(work(r) for r in repos))
    assert sorted(claims) == sorted(seq_of)  # each command claimed exactly once
    assert all(order == list(range(6)) for order in finished.values()), finished  # in recorded order


async def test_the_claim_query_agrees_with_the_pure_rule_on_random_queues(engine: AsyncEngine) -> None:
    rng = random.Random(20261206)
    accounts = [new_id() for _ in range(5)]
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    for round_ in range(6):
        await quiet_queue(engine)
        recorded: list[tuple[uuid.UUID, ordering.OrderingKeys]] = []
        for _ in range(25):
            kind = rng.random()
            if kind < 0.8:
                a, b = rng.sample(accounts, 2)
                payload: object = pay(a, b)
                ctype = "TRANSFER_TOKENS"
            elif kind < 0.9:
                payload, ctype = (
                    c.FreezeWalletRequest(account_id=rng.choice(accounts), reason="x"),
                    "FREEZE_WALLET",
                )
            else:
                payload, ctype = (
                    c.UpdateSystemParameterRequest(parameter="fee_cap_bps", value=1),
                    "UPDATE_SYSTEM_PARAMETER",
                )
            cid = await record(engine, ctype, payload)  # type: ignore[arg-type]
            recorded.append((cid, ordering.keys_of(payload)))  # type: ignore[arg-type]
        live = list(range(len(recorded)))
        while live:
            expected = {
                recorded[i][0]
                for i in live
                if ordering.runnable(recorded[i][1], [recorded[j][1] for j in live if j < i])
            }
            assert await _claimable(repo, engine) == expected, f"round {round_}"
            done = rng.sample(sorted(expected, key=str), k=max(1, len(expected) // 2))
            await _finish(engine, *done, status=rng.choice(["COMMITTED", "FAILED"]))
            live = [i for i in live if recorded[i][0] not in done]


async def test_a_dependent_waits_for_its_prerequisite_and_fails_naming_it(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    tenant = f"t-{uuid.uuid4()}"  # earlier tests of this module recorded bootstraps too
    async with AsyncSession(engine) as session, session.begin():
        assert await find_prerequisite(session, "BOOTSTRAP_SYSTEM", tenant=tenant) is None  # absent
        boot_op = await record_command(session, "BOOTSTRAP_SYSTEM", c.BootstrapSystemRequest(), tenant=tenant)
    async with AsyncSession(engine) as session, session.begin():
        found = await find_prerequisite(session, "BOOTSTRAP_SYSTEM", tenant=tenant)
        assert found is not None and found.in_flight and f"operations/{found.command_id}" == boot_op.name
        dep_op = await record_command(
            session,
            "ACTIVATE_TREASURY",
            c.ActivateTreasuryRequest(country_code="ZZ"),
            depends_on=found.command_id,
            tenant=tenant,
        )
    boot, dependent = found.command_id, uuid.UUID(dep_op.name.removeprefix("operations/"))
    assert await _claimable(repo, engine) == {boot}
    await _finish(engine, boot, status="FAILED")
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET error_code = 'ALREADY_BOOTSTRAPPED' WHERE id = :id"),
            {"id": boot},
        )
    async with AsyncSession(engine) as session:
        # A failed command is no prerequisite: a pre-check would now refuse.
        assert await find_prerequisite(session, "BOOTSTRAP_SYSTEM", tenant=tenant) is None
    [claimed] = await repo.claim(10)
    assert claimed.id == dependent and claimed.depends_on == boot

    class NoPeer:  # the processor must not reach the peer at all
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"peer called: {name}")

    processor = CommandProcessor(repo, NoPeer(), OutboxMetrics(CollectorRegistry()), ProcessorSettings())  # type: ignore[arg-type]
    await processor.process(claimed)
    row = await command_row(engine, dependent)
    assert (row.status, row.error_code, row.attempts) == ("FAILED", "PREREQUISITE_FAILED", 0)
    assert (
        f"BOOTSTRAP_SYSTEM command {boot}" in row.error_message
        and "ALREADY_BOOTSTRAPPED" in row.error_message
    )


async def test_a_dependent_of_a_committed_prerequisite_is_submitted(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    boot = await record(engine, "BOOTSTRAP_SYSTEM", c.BootstrapSystemRequest())
    async with AsyncSession(engine) as session, session.begin():
        op = await record_command(
            session, "FREEZE_WALLET", c.FreezeWalletRequest(account_id=new_id(), reason="x"), depends_on=boot
        )
    dependent = uuid.UUID(op.name.removeprefix("operations/"))
    # Held back by its prerequisite even with the system key aside (the claim checks both).
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET order_keys = '{}', exclusive_keys = '{}' WHERE id = :id"),
            {"id": dependent},
        )
    assert await _claimable(repo, engine) == {boot}
    await _finish(engine, boot)
    [claimed] = await repo.claim(10)
    assert claimed.id == dependent
    processor = CommandProcessor(repo, _Peer(), OutboxMetrics(CollectorRegistry()), ProcessorSettings())  # type: ignore[arg-type]
    await processor.process(claimed)
    assert (await command_row(engine, dependent)).status == "COMMITTED"


class _Peer:
    """Endorses anything and commits it VALID (the point here is only that the command was sent)."""

    async def endorse(self, spec: object, payload_json: str) -> Transaction:
        return Transaction(tx_id=uuid.uuid4().hex, channel_id="gx", envelope_bytes=b"env", result=b"{}")

    async def submit(self, envelope: bytes) -> None:
        return None

    async def commit_status(self, tx_id: str, wait: float) -> CommitStatus:
        return CommitStatus(tx_id=tx_id, code=0, block_number=1)

    def outcome_of(self, envelope: bytes) -> tuple[bytes, bytes]:
        return b"{}", b""


async def test_blocked_commands_are_counted_for_the_metric(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    alice = new_id()
    for _ in range(4):
        await record(engine, "TRANSFER_TOKENS", pay(alice, new_id()))
    assert await repo.blocked_count() == 3


async def test_a_long_queue_behind_one_sender_does_not_hold_up_unrelated_commands(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    hot = new_id()
    queued = [await record(engine, "TRANSFER_TOKENS", pay(hot, new_id())) for _ in range(60)]
    others = [await record(engine, "TRANSFER_TOKENS", pay(new_id(), hot)) for _ in range(3)]
    # The claim walks past the 59 blocked ones: a small batch still gets the unrelated work.
    # (The credits to `hot` were recorded after its debits, so they wait too: only new senders
    # paying someone else are free.)
    free = [await record(engine, "TRANSFER_TOKENS", pay(new_id(), new_id())) for _ in range(2)]
    assert {cmd.id for cmd in await repo.claim(3)} == {queued[0], *free}
    await _release(engine)
    async with engine.connect() as conn:
        live = (
            await conn.execute(
                text("SELECT count(*) FROM outbox.live_keys WHERE command_id = ANY(:ids)"),
                {"ids": [*queued, *others, *free]},
            )
        ).scalar_one()
    assert live == 65 * 3  # sender, recipient, system: the keys of every unfinished command
    await _finish(engine, queued[0], status="FAILED")
    async with engine.connect() as conn:
        left = (
            await conn.execute(
                text("SELECT count(*) FROM outbox.live_keys WHERE command_id = :id"), {"id": queued[0]}
            )
        ).scalar_one()
    assert left == 0  # a finished command holds nothing, whichever path finished it
    assert {cmd.id for cmd in await repo.claim(10)} == {queued[1], *free}
