"""Fault tests with real processes killed by SIGKILL: exactly one valid transaction per command,
nothing lost while the peer is down, no gap or duplicate after a projector crash, no overdraft.

Everything is real: PostgreSQL, the devnet peer with the GX chaincode, `python -m outbox` and
`python -m projector`. After each scenario the read-model balances must equal the balances the
chaincode reports (evaluate) for every account.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gx.ledger.v1 import commands_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.ledger import Ledger, running_ledger
from tests.workers.conftest import command_row, record, wait_until
from tests.workers.mesh import WorkerProcess, chain_balances, dumps, operations_done, worker_env

pytestmark = pytest.mark.slow

GX = 1_000_000  # Qirat


@dataclass
class Mesh:
    """The ledger, the projector, and a way to start outbox workers, for one module."""

    ledger: Ledger
    env: dict[str, str]
    logs: Path
    projector: WorkerProcess
    extra: list[WorkerProcess] = field(default_factory=list)

    async def outbox(self, **env: str) -> WorkerProcess:
        proc = await WorkerProcess("outbox", self.logs, {**self.env, **env}).start()
        self.extra.append(proc)
        return proc

    async def restart_projector(self) -> None:
        await self.projector.stop()
        self.projector = await WorkerProcess("projector", self.logs, self.env).start()
        self.extra.append(self.projector)

    def all_logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name} ---\n{p.log()}" for p in {*self.extra, self.projector})


async def wait_done(mesh: Mesh, engine: AsyncEngine, ids: list[uuid.UUID], limit: float = 90) -> None:
    try:
        await wait_until(lambda: operations_done(engine, ids), limit, 0.1)
    except AssertionError:
        raise AssertionError(f"commands not done in {limit}s\n{mesh.all_logs()}") from None


async def create_users(mesh: Mesh, engine: AsyncEngine, count: int, country: str = "LK") -> list[str]:
    users = [str(uuid.uuid4()) for _ in range(count)]
    ids = [
        await record(
            engine,
            "CREATE_USER",
            commands_pb2.CreateUserRequest(
                request_id=str(uuid.uuid4()), user_id=user, country_code=country, date_of_birth="1990-05-17"
            ),
        )
        for user in users
    ]
    await wait_done(mesh, engine, ids)
    return users


def transfer(sender: str, receiver: str, amount: int) -> commands_pb2.TransferTokensRequest:
    return commands_pb2.TransferTokensRequest(
        request_id=str(uuid.uuid4()), from_account_id=sender, to_account_id=receiver, amount_qirat=amount
    )


async def sent_rows(engine: AsyncEngine, request_id: str) -> int:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text("SELECT count(*) FROM ledger.transactions WHERE request_id = :r AND type = 'SENT'"),
                {"r": request_id},
            )
        ).scalar_one()


async def request_id_of(engine: AsyncEngine, cid: uuid.UUID) -> str:
    row = await command_row(engine, cid)
    return json.loads(json.dumps(row.payload))["requestId"]


async def assert_read_models_equal_chain(mesh: Mesh, engine: AsyncEngine) -> None:
    async def caught_up() -> bool:
        async with engine.connect() as conn:
            pending = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM outbox.commands c WHERE c.status IN ('PENDING', 'SUBMITTED') OR (c.status = 'COMMITTED'"
                        " AND NOT EXISTS (SELECT 1 FROM ledger.projected_txs p WHERE p.tx_id = c.tx_id))"
                    )
                )
            ).scalar_one()
        return pending == 0

    await wait_until(caught_up, 90, 0.1)
    chain = await chain_balances(mesh.ledger)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT wallet_id, balance_qirat FROM ledger.wallets"))).all()
    projected = {r.wallet_id: r.balance_qirat for r in rows}
    assert projected == chain, dumps({"chain": chain, "read_models": projected})


async def ready(proc: WorkerProcess, limit: float = 60) -> WorkerProcess:
    """Wait until a started worker answers /readyz (its start-up takes seconds on a busy machine)."""

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{proc.metrics_port}/readyz", timeout=2) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    async def up() -> bool:
        assert proc.running, proc.log()
        return await asyncio.to_thread(answers)

    await wait_until(up, limit, 0.2)
    return proc


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return reply.read().decode()


@pytest.fixture(scope="module")
async def mesh(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    async with running_ledger(
        tmp_path_factory.mktemp("ledger"), chaincode="gx", batch_timeout=0.05
    ) as ledger:
        logs = tmp_path_factory.mktemp("logs")
        env = worker_env(migrated_url, ledger)
        projector = await WorkerProcess("projector", logs, env).start()
        state = Mesh(ledger, env, logs, projector)
        engine = create_async_engine(migrated_url)
        outbox = await state.outbox()
        try:
            boot = await record(
                engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))
            )
            await wait_done(state, engine, [boot])
            countries = await record(
                engine,
                "INITIALIZE_COUNTRY",
                commands_pb2.InitializeCountriesRequest(
                    request_id=str(uuid.uuid4()),
                    countries=[
                        commands_pb2.CountryShare(country_code="LK", name="Sri Lanka", share_bps=10_000)
                    ],
                ),
            )
            await wait_done(state, engine, [countries])
            await outbox.stop()
            yield state
        finally:
            for proc in {*state.extra, state.projector}:
                await proc.stop()
            await engine.dispose()


async def applied_by(engine: AsyncEngine, request_id: str) -> tuple[str, int]:
    """The transaction whose events carry a transfer's effect, and its block (the projected SENT row)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT fabric_tx_id, block_number FROM ledger.transactions WHERE request_id = :r AND type = 'SENT'"
                ),
                {"r": request_id},
            )
        ).one()
    return row.fabric_tx_id, row.block_number


# What a worker killed at each point leaves in its command's row (outbox/failpoints.py): only
# after the store is there a transaction to finish; before it, the next attempt endorses anew,
# and after Submit that attempt is answered as a replay of the first.
_LEFT_AT = {
    "after_endorse": ("PENDING", False),
    "after_submit": ("PENDING", False),
    "after_store": ("SUBMITTED", True),
}


@pytest.mark.parametrize("point", ["after_endorse", "after_submit", "after_store"])
async def test_outbox_killed_mid_command_leaves_exactly_one_valid_transaction(
    mesh: Mesh, engine: AsyncEngine, point: str
) -> None:
    helper = await mesh.outbox()
    alice, bob = await create_users(mesh, engine, 2)
    await helper.stop()

    crashing = await mesh.outbox(GX_OUTBOX_FAILPOINT=point)
    cid = await record(engine, "TRANSFER_TOKENS", transfer(alice, bob, 7 * GX))
    await wait_until(lambda: asyncio.sleep(0, not crashing.running), 30)
    assert crashing.process.returncode == -9  # SIGKILL, as a power cut
    left = await command_row(engine, cid)
    status, stored = _LEFT_AT[point]
    assert (left.status, bool(left.tx_id and left.envelope)) == (status, stored)

    survivor = await mesh.outbox()
    await wait_done(mesh, engine, [cid])
    final = await command_row(engine, cid)
    request_id = await request_id_of(engine, cid)
    assert await sent_rows(engine, request_id) == 1
    # The operation names the transaction that carries the effect, and its block: the stored one
    # finished (not replaced), or, after a crash between Submit and the store, the first one,
    # which the survivor's replay named.
    assert (final.status, final.tx_id, final.block_number) == (
        "COMMITTED",
        *await applied_by(engine, request_id),
    )
    if stored:
        assert final.tx_id == left.tx_id
    await survivor.stop()
    await assert_read_models_equal_chain(mesh, engine)


async def test_devnet_down_for_30s_commands_wait_and_all_commit_once(mesh: Mesh, engine: AsyncEngine) -> None:
    outbox = await mesh.outbox()
    alice, bob = await create_users(mesh, engine, 2)
    await mesh.ledger.stop_devnet()
    loop = asyncio.get_running_loop()
    down_since = loop.time()
    ids = []
    breaker_states: set[str] = set()
    for _ in range(6):  # commands keep arriving while the peer is down
        ids.append(await record(engine, "TRANSFER_TOKENS", transfer(alice, bob, 1 * GX)))
        await asyncio.sleep(4)
        metrics = await asyncio.to_thread(_metrics, outbox.metrics_port)
        breaker_states.update(re.findall(r"^gx_outbox_breaker_state (\S+)$", metrics, re.MULTILINE))
        oldest = float(re.findall(r"^gx_outbox_oldest_pending_age_seconds (\S+)$", metrics, re.MULTILINE)[0])
    await asyncio.sleep(max(0.0, 30 - (loop.time() - down_since)))
    assert "2.0" in breaker_states, breaker_states  # the breaker opened: the peer was not hammered
    assert oldest >= 10
    async with engine.connect() as conn:
        statuses = (
            await conn.execute(
                text("SELECT status, attempts FROM outbox.commands WHERE id = ANY(:ids)"), {"ids": ids}
            )
        ).all()
    assert all(s.status in ("PENDING", "SUBMITTED") for s in statuses)  # none lost, none failed
    assert outbox.running
    await mesh.ledger.start_devnet()
    await wait_done(mesh, engine, ids, 120)
    for cid in ids:
        assert (await command_row(engine, cid)).status == "COMMITTED"
        assert await sent_rows(engine, await request_id_of(engine, cid)) == 1
    await outbox.stop()
    await assert_read_models_equal_chain(mesh, engine)


async def test_projector_killed_mid_stream_resumes_without_gap_or_duplicate(
    mesh: Mesh, engine: AsyncEngine
) -> None:
    outbox = await mesh.outbox()
    alice, bob = await create_users(mesh, engine, 2)
    async with engine.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM ledger.projected_txs"))).scalar_one()
    ids = [await record(engine, "TRANSFER_TOKENS", transfer(alice, bob, GX // 2)) for _ in range(20)]

    async def some_projected() -> bool:
        async with engine.connect() as conn:
            return (
                await conn.execute(text("SELECT count(*) FROM ledger.projected_txs"))
            ).scalar_one() >= before + 3

    await wait_until(some_projected, 60)
    await mesh.projector.kill()

    async def all_committed() -> bool:
        async with engine.connect() as conn:
            n = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM outbox.commands WHERE id = ANY(:ids) AND status = 'COMMITTED'"
                    ),
                    {"ids": ids},
                )
            ).scalar_one()
        return n == len(ids)

    await wait_until(all_committed, 90)
    await mesh.restart_projector()
    await wait_done(mesh, engine, ids)
    for cid in ids:
        assert await sent_rows(engine, await request_id_of(engine, cid)) == 1
    await outbox.stop()
    await assert_read_models_equal_chain(mesh, engine)


async def test_fifty_concurrent_transfers_from_one_account_never_overdraw(
    mesh: Mesh, engine: AsyncEngine
) -> None:
    outbox = await mesh.outbox(GX_OUTBOX__MAX_ATTEMPTS="500", GX_OUTBOX__BACKOFF_MAX="0.2")
    payer, payee = await create_users(mesh, engine, 2)
    async with engine.connect() as conn:
        start = (
            await conn.execute(
                text("SELECT balance_qirat FROM ledger.wallets WHERE wallet_id = :w"), {"w": payer}
            )
        ).scalar_one()
    assert start > 0
    amount = start // 25  # at most 24 fit, fees included
    ids = list(
        await asyncio.gather(
            *(record(engine, "TRANSFER_TOKENS", transfer(payer, payee, amount)) for _ in range(50))
        )
    )
    await wait_done(mesh, engine, ids, 240)
    rows = [await command_row(engine, cid) for cid in ids]
    committed = [r for r in rows if r.status == "COMMITTED"]
    failed = [r for r in rows if r.status == "FAILED"]
    assert len(committed) + len(failed) == 50
    assert 1 <= len(committed) <= 24 and failed
    assert {r.error_code for r in failed} == {"INSUFFICIENT_FUNDS"}, {
        (r.error_code, r.error_message) for r in failed
    }
    assert all("INSUFFICIENT_FUNDS" in r.error_message for r in failed)
    chain = await chain_balances(mesh.ledger)
    async with engine.connect() as conn:
        fees = (
            await conn.execute(
                text(
                    "SELECT COALESCE(sum(amount_qirat), 0) FROM ledger.transactions WHERE wallet_id = :w AND type = 'FEE'"
                ),
                {"w": payer},
            )
        ).scalar_one()
    assert chain[payer] >= 0
    await outbox.stop()
    await assert_read_models_equal_chain(mesh, engine)
    assert chain[payer] == start - len(committed) * amount - fees


async def test_two_workers_share_the_queue_and_each_command_commits_once(
    mesh: Mesh, engine: AsyncEngine
) -> None:
    # Small batches and little concurrency per worker, so one worker cannot hold the whole queue
    # at once and the sharing is observable (with the defaults, one fast worker may claim all 30).
    small = {"GX_OUTBOX__BATCH_SIZE": "2", "GX_OUTBOX__CONCURRENCY": "2"}
    first = await mesh.outbox(**small)
    users = await create_users(mesh, engine, 6)
    second = await ready(await mesh.outbox(**small))
    # Three independent pairs: transfers of one sender run one at a time (ordering), so a ring
    # of payments would be a single chain and leave nothing for a second worker to share.
    ids = [
        await record(engine, "TRANSFER_TOKENS", transfer(users[(i % 3) * 2], users[(i % 3) * 2 + 1], GX // 4))
        for i in range(30)
    ]
    await wait_done(mesh, engine, ids)
    for cid in ids:
        assert (await command_row(engine, cid)).status == "COMMITTED"
        assert await sent_rows(engine, await request_id_of(engine, cid)) == 1
    committed = []
    for proc in (first, second):
        text_ = await asyncio.to_thread(_metrics, proc.metrics_port)
        committed.append(
            sum(
                float(v)
                for v in re.findall(
                    r'^gx_outbox_commands_committed_total\{command_type="TRANSFER_TOKENS"\} (\S+)$',
                    text_,
                    re.MULTILINE,
                )
            )
        )
    assert sum(committed) == len(ids) and all(n > 0 for n in committed), committed  # both worked, none twice
    await first.stop()
    await second.stop()
    await assert_read_models_equal_chain(mesh, engine)


async def _blocks(engine: AsyncEngine, ids: list[uuid.UUID]) -> list[int]:
    return [(await command_row(engine, cid)).block_number for cid in ids]


@pytest.mark.parametrize("point", ["after_submit", "after_endorse:2", "after_store"])
async def test_outbox_killed_between_ordered_commands_commits_them_in_recorded_order_once(
    mesh: Mesh, engine: AsyncEngine, point: str
) -> None:
    helper = await mesh.outbox()
    alice, bob = await create_users(mesh, engine, 2)
    await helper.stop()
    start = (await chain_balances(mesh.ledger))[alice]
    # alice → bob, bob → alice, alice → bob: each waits for the one before (a shared account).
    # The middle one moves more than bob had at first, so it commits only after the first.
    ids = [
        await record(engine, "TRANSFER_TOKENS", transfer(alice, bob, start // 2)),
        await record(engine, "TRANSFER_TOKENS", transfer(bob, alice, start // 2 + start // 4)),
        await record(engine, "TRANSFER_TOKENS", transfer(alice, bob, GX)),
    ]
    crashing = await mesh.outbox(GX_OUTBOX_FAILPOINT=point)
    await wait_until(lambda: asyncio.sleep(0, not crashing.running), 60)
    assert crashing.process.returncode == -9
    rows = [await command_row(engine, cid) for cid in ids]
    killed_at = 1 if point == "after_endorse:2" else 0
    status, stored = _LEFT_AT[point.partition(":")[0]]
    assert (rows[killed_at].status, bool(rows[killed_at].tx_id)) == (status, stored)
    # Nothing recorded after it was even endorsed: it waits for the interrupted one.
    assert all(r.status == "PENDING" and r.tx_id is None for r in rows[killed_at + 1 :])
    assert all(r.status == "COMMITTED" for r in rows[:killed_at])

    survivor = await mesh.outbox()
    await wait_done(mesh, engine, ids)
    final = [await command_row(engine, cid) for cid in ids]
    assert [r.status for r in final] == ["COMMITTED"] * 3, [
        (r.status, r.error_code, r.error_message) for r in final
    ]
    if stored:
        assert final[killed_at].tx_id == rows[killed_at].tx_id  # finished, not replaced
    for row, cid in zip(final, ids, strict=True):  # each names the transaction with its effect
        assert (row.tx_id, row.block_number) == await applied_by(engine, await request_id_of(engine, cid))
    blocks = await _blocks(engine, ids)
    assert blocks == sorted(blocks) and len(set(blocks)) == 3, blocks  # in recorded order, one per block
    for cid in ids:
        assert await sent_rows(engine, await request_id_of(engine, cid)) == 1
    await survivor.stop()
    await assert_read_models_equal_chain(mesh, engine)


async def test_two_workers_sharing_ordered_commands_commit_each_once_in_recorded_order(
    mesh: Mesh, engine: AsyncEngine
) -> None:
    helper = await mesh.outbox()
    users = await create_users(mesh, engine, 5)
    await helper.stop()
    senders, shop = users[:4], users[4]
    # Each worker takes one command at a time, so with four senders runnable at once both get work.
    one = {"GX_OUTBOX__BATCH_SIZE": "1", "GX_OUTBOX__CONCURRENCY": "1"}
    workers = [await ready(await mesh.outbox(**one)), await ready(await mesh.outbox(**one))]
    chains: dict[str, list[uuid.UUID]] = {s: [] for s in senders}
    for round_ in range(6):
        for i, sender in enumerate(senders):
            # Mostly payments to one merchant (shared: concurrent), sometimes to the next sender,
            # which orders that sender's later debits after the credit.
            receiver = senders[(i + 1) % 4] if round_ % 3 == 2 else shop
            chains[sender].append(
                await record(engine, "TRANSFER_TOKENS", transfer(sender, receiver, GX // 10))
            )
    ids = [cid for chain in chains.values() for cid in chain]
    await wait_done(mesh, engine, ids, 180)
    for cid in ids:
        row = await command_row(engine, cid)
        assert row.status == "COMMITTED", (row.error_code, row.error_message)
        assert await sent_rows(engine, await request_id_of(engine, cid)) == 1
    for sender, chain in chains.items():
        blocks = await _blocks(engine, chain)
        assert blocks == sorted(blocks) and len(set(blocks)) == len(blocks), (sender, blocks)
    committed = []
    for proc in workers:
        text_ = await asyncio.to_thread(_metrics, proc.metrics_port)
        committed.append(
            sum(
                float(v)
                for v in re.findall(
                    r'^gx_outbox_commands_committed_total\{command_type="TRANSFER_TOKENS"\} (\S+)$',
                    text_,
                    re.MULTILINE,
                )
            )
        )
    assert sum(committed) == len(ids) and all(n > 0 for n in committed), committed
    for proc in workers:
        await proc.stop()
    await assert_read_models_equal_chain(mesh, engine)


async def test_a_chain_each_funded_by_the_one_before_commits_on_speculative_endorsements(
    mesh: Mesh, engine: AsyncEngine
) -> None:
    """Each transfer spends more than its sender had before the previous transfer's credit, so an
    endorsement that read the ledger before that commit would be refused (or conflict): the
    speculative endorsements must be made on the state after it, and every one must be used once."""
    helper = await mesh.outbox()
    alice, bob, carol = await create_users(mesh, engine, 3)
    await helper.stop()
    start = (await chain_balances(mesh.ledger))[alice]
    # Recorded before any worker runs, so each one's successor is in line when it commits.
    ids = [
        await record(engine, "TRANSFER_TOKENS", transfer(alice, bob, start * 3 // 4)),
        await record(engine, "TRANSFER_TOKENS", transfer(bob, carol, start * 3 // 2)),  # needs alice's
        await record(engine, "TRANSFER_TOKENS", transfer(carol, alice, start * 2)),  # needs bob's
        await record(engine, "TRANSFER_TOKENS", transfer(alice, carol, start)),  # needs carol's
    ]
    worker = await ready(await mesh.outbox())
    await wait_done(mesh, engine, ids)
    rows = [await command_row(engine, cid) for cid in ids]
    assert [r.status for r in rows] == ["COMMITTED"] * 4, [
        (r.status, r.error_code, r.error_message) for r in rows
    ]
    blocks = await _blocks(engine, ids)
    assert blocks == sorted(blocks) and len(set(blocks)) == 4, blocks
    metrics = await asyncio.to_thread(_metrics, worker.metrics_port)

    def counted(pattern: str) -> float:
        return sum(float(v) for v in re.findall(rf"^{pattern} (\S+)$", metrics, re.MULTILINE))

    # One transaction per command: no speculation read a stale state (that would be a conflict
    # and a second transaction) ...
    assert counted(r'gx_outbox_commands_submitted_total\{command_type="TRANSFER_TOKENS"\}') == 4
    # ... and the three handed over ran on their speculation, none refused or dropped.
    assert counted(r'gx_outbox_speculative_endorsements_total\{outcome="used"\}') == 3, metrics
    assert counted(r'gx_outbox_speculative_endorsements_total\{outcome="(?:failed|discarded)"\}') == 0
    for cid in ids:
        assert await sent_rows(engine, await request_id_of(engine, cid)) == 1
    await worker.stop()
    await assert_read_models_equal_chain(mesh, engine)
