"""Commands recorded in the outbox reach the GX chaincode once and come back as read models.

Real processes throughout: PostgreSQL, the devnet peer with the GX chaincode, and the outbox
worker and projector started as `python -m outbox` / `python -m projector`.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator

import pytest
from gx.ledger.v1 import commands_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import ledger_rules as rules
from services.common import operations
from tests.support.ledger import Ledger
from tests.workers.conftest import record, wait_until
from tests.workers.mesh import (
    WorkerProcess,
    chain_balances,
    dumps,
    operations_done,
    running_workers,
    worker_env,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def workers(
    ledger: Ledger, migrated_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, WorkerProcess]]:
    logs = tmp_path_factory.mktemp("worker-logs")
    env = worker_env(migrated_url, ledger)
    async with running_workers(("outbox", "projector"), logs, env) as procs:
        yield procs


async def _read_model_balances(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT wallet_id, balance_qirat FROM ledger.wallets"))).all()
    return {r.wallet_id: r.balance_qirat for r in rows}


async def test_kyc_approved_users_become_active_get_genesis_and_can_transfer(
    engine: AsyncEngine, ledger: Ledger, workers: dict[str, WorkerProcess]
) -> None:
    rid = lambda: str(uuid.uuid4())  # noqa: E731
    # Serialised like an admin would: bootstrap first, then the countries, then users. Each step
    # needs the one before it on chain (the outbox runs commands concurrently, so a command recorded
    # early could be endorsed before its prerequisite commits and be rejected).
    setup = [await record(engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=rid()))]
    await wait_until(lambda: operations_done(engine, setup), 60)
    setup.append(
        await record(
            engine,
            "INITIALIZE_COUNTRY",
            commands_pb2.InitializeCountriesRequest(
                request_id=rid(),
                countries=[
                    commands_pb2.CountryShare(country_code="LK", name="Sri Lanka", share_bps=6000),
                    commands_pb2.CountryShare(country_code="IN", name="India", share_bps=4000),
                ],
            ),
        )
    )
    await wait_until(lambda: operations_done(engine, setup), 60)
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    # The identity service's KYC approval records exactly this command (its payload is the ledger request).
    users = [
        await record(
            engine,
            "CREATE_USER",
            commands_pb2.CreateUserRequest(
                request_id=rid(), user_id=user, country_code=cc, date_of_birth="1990-05-17"
            ),
        )
        for user, cc in ((alice, "LK"), (bob, "IN"))
    ]
    try:
        await wait_until(lambda: operations_done(engine, setup + users), 60)
    except AssertionError:
        raise AssertionError(workers["outbox"].log() + workers["projector"].log()) from None
    transfer = await record(
        engine,
        "TRANSFER_TOKENS",
        commands_pb2.TransferTokensRequest(
            request_id=rid(),
            from_account_id=alice,
            to_account_id=bob,
            amount_qirat=120_000_000,
            remark="rent",
        ),
    )
    await wait_until(lambda: operations_done(engine, [transfer]), 60)

    for cid in [*setup, *users, transfer]:
        operation, _ = await operations.get_operation(engine, cid)  # type: ignore[misc]
        assert operation.state == 3, operation  # COMMITTED, and projected
        assert operation.fabric_tx_id and operation.block_number > 0

    async with engine.connect() as conn:
        active = (
            await conn.execute(
                text("SELECT user_id, status, genesis_received FROM ledger.users ORDER BY user_id")
            )
        ).all()
        history = (
            await conn.execute(
                text(
                    "SELECT type, amount_qirat, fee_qirat, counterparty FROM ledger.transactions WHERE wallet_id = :a ORDER BY id"
                ),
                {"a": alice},
            )
        ).all()
    assert sorted((r.user_id, r.status, r.genesis_received) for r in active) == sorted(
        [(alice, "ACTIVE", True), (bob, "ACTIVE", True)]
    )
    kinds = [h.type for h in history]
    assert kinds[0] == "GENESIS" and "SENT" in kinds and "FEE" in kinds
    sent = next(h for h in history if h.type == "SENT")
    assert sent.amount_qirat == 120_000_000 and sent.counterparty == bob and sent.fee_qirat > 0
    async with engine.connect() as conn:
        parameters = dict(
            (await conn.execute(text("SELECT name, value FROM ledger.system_parameters"))).all()
        )
    # Bootstrap announced the defaults; nothing changed them since.
    assert parameters == {name: spec.default for name, spec in rules.PARAMETERS.items()}

    chain = await chain_balances(ledger)
    projected = await _read_model_balances(engine)
    assert projected == chain, dumps({"chain": chain, "read_models": projected})
    assert sum(chain.values()) > 0


async def test_quiet_chain_is_ready_with_zero_lag(workers: dict[str, WorkerProcess]) -> None:
    # Nothing is happening on the chain now: both workers must still be ready, and lag is 0.
    await asyncio.sleep(1.5)
    for proc in workers.values():
        status, body = await asyncio.to_thread(_get, proc.metrics_port, "/readyz")
        assert status == 200, body
    _, metrics = await asyncio.to_thread(_get, workers["projector"].metrics_port, "/metrics")
    assert "gx_projector_lag_blocks 0.0" in metrics and "gx_projector_lag_seconds 0.0" in metrics
    assert "gx_projector_active 1.0" in metrics
    _, metrics = await asyncio.to_thread(_get, workers["outbox"].metrics_port, "/metrics")
    assert 'gx_outbox_commands_committed_total{command_type="TRANSFER_TOKENS"} 1.0' in metrics
    assert "gx_outbox_breaker_state 0.0" in metrics
    assert 'gx_outbox_queue_depth{status="PENDING"} 0.0' in metrics


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
