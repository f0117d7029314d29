"""The whole onboarding loop: identity's KYC approval → outbox → GX chaincode → projector → ACTIVE.

Real identity server (in-process, real interceptors), real PostgreSQL and Redis, the devnet with
the GX chaincode, and `python -m outbox` / `python -m projector` as processes. No service
writes a read model: the user appears in `ledger.*` only through the projector.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from gx.ledger.v1 import commands_pb2
from gx.type.v1 import operation_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import operations
from tests.grpc.identity.identity_harness import Identity, bearer, new_super_admin, new_user, running_identity
from tests.support.ledger import Ledger, running_ledger
from tests.workers.conftest import record, wait_until
from tests.workers.mesh import WorkerProcess, chain_balances, running_workers, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def stack(
    migrated_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Identity, Ledger, list[WorkerProcess]]]:
    keys = Path(tmp_path_factory.mktemp("identity-keys"))
    async with (
        running_identity(migrated_url, redis_url, keys) as identity,
        running_ledger(tmp_path_factory.mktemp("ledger"), chaincode="gx", batch_timeout=0.05) as ledger,
    ):
        logs = tmp_path_factory.mktemp("logs")
        env = worker_env(migrated_url, ledger)
        async with running_workers(("outbox", "projector"), logs, env) as procs:
            yield identity, ledger, list(procs.values())


def _sha() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


async def test_kyc_approval_makes_the_user_active_on_chain_with_genesis_wallet_and_history(
    engine: AsyncEngine, stack: tuple[Identity, Ledger, list[WorkerProcess]]
) -> None:
    identity, ledger, procs = stack

    # The chain is bootstrapped and the countries initialised first (what an admin does via the wallet service).
    # Each once the one before it committed: the outbox runs commands concurrently, so the countries
    # recorded before bootstrap commits could be endorsed first and be rejected.
    async def done(cid: uuid.UUID) -> bool:
        result = await operations.get_operation(engine, cid)
        return result is not None and result[0].done

    boot = await record(
        engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))
    )
    await wait_until(lambda: done(boot), 60)
    countries = await record(
        engine,
        "INITIALIZE_COUNTRY",
        commands_pb2.InitializeCountriesRequest(
            request_id=str(uuid.uuid4()),
            countries=[commands_pb2.CountryShare(country_code="LK", name="Sri Lanka", share_bps=10_000)],
        ),
    )
    await wait_until(lambda: done(countries), 60)

    user_id, _, tokens = await new_user(identity, "kyc")
    _, admin = await new_super_admin(identity)
    await identity.stub.SubmitKyc(
        svc.SubmitKycRequest(
            user_id="me",
            first_name="Ana",
            last_name="Perera",
            date_of_birth="1990-04-01",
            nationality="LK",
            documents=[
                identity_pb2.KycDocument(type=identity_pb2.KYC_DOCUMENT_TYPE_PASSPORT, sha256=_sha()),
                identity_pb2.KycDocument(type=identity_pb2.KYC_DOCUMENT_TYPE_SELFIE, sha256=_sha()),
            ],
        ),
        metadata=bearer(tokens.access_token),
    )
    operation = await identity.stub.ApproveKyc(
        svc.ApproveKycRequest(user_id=user_id, request_id=str(uuid.uuid4())),
        metadata=bearer(admin.access_token),
    )
    command_id = operations.parse_operation_name(operation.name)
    assert command_id is not None
    try:
        await wait_until(lambda: done(command_id), 60)
    except AssertionError:
        raise AssertionError("\n".join(p.log() for p in procs)) from None
    final, _ = await operations.get_operation(engine, command_id)  # type: ignore[misc]
    assert final.state == operation_pb2.OPERATION_STATE_COMMITTED
    assert not final.HasField("error")

    profile = await identity.stub.GetUser(
        svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token)
    )
    assert profile.user.state == identity_pb2.USER_STATE_ACTIVE

    async with engine.connect() as conn:
        onchain = (
            await conn.execute(
                text("SELECT status, genesis_received, genesis_qirat FROM ledger.users WHERE user_id = :u"),
                {"u": user_id},
            )
        ).one()
        wallet = (
            await conn.execute(
                text("SELECT balance_qirat, account_type FROM ledger.wallets WHERE wallet_id = :u"),
                {"u": user_id},
            )
        ).one()
        history = (
            await conn.execute(
                text("SELECT type, amount_qirat FROM ledger.transactions WHERE wallet_id = :u"),
                {"u": user_id},
            )
        ).all()
    assert (onchain.status, onchain.genesis_received) == ("ACTIVE", True)
    assert onchain.genesis_qirat > 0 and wallet.account_type == "USER"
    assert wallet.balance_qirat == onchain.genesis_qirat
    assert [tuple(h) for h in history] == [("GENESIS", onchain.genesis_qirat)]
    assert (await chain_balances(ledger))[user_id] == wallet.balance_qirat
