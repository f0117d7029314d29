"""Runs the real wallet server in-process over real PostgreSQL and Redis, and seeds its read models.

The tests write the `ledger.*` read models directly in the projector's place (the wallet only
reads them), so each test states exactly the ledger state it is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from gx.wallet.v1 import admin_service_pb2_grpc, wallet_service_pb2_grpc
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import auth, migrate
from services.common.db import open_autocommit_pool, open_database
from services.common.redis import open_redis
from services.common.server import GxServer
from services.wallet.server import create_wallet_server
from services.wallet.settings import WalletSettings
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer

GX = 1_000_000


@dataclass
class Wallet:
    """A running wallet server and what tests need around it."""

    server: GxServer
    engine: AsyncEngine
    redis: Redis
    signer: Signer
    channel: grpc.aio.Channel
    wallets: wallet_service_pb2_grpc.WalletServiceStub
    admin: admin_service_pb2_grpc.AdminServiceStub

    def token(self, user_id: str, *roles: str) -> tuple[tuple[str, str], ...]:
        """Call metadata with a bearer token for `user_id` (default role USER)."""
        return (
            ("authorization", "Bearer " + self.signer.token(sub=user_id, roles=list(roles or ("USER",)))),
        )

    async def sql(self, statement: str, **params: Any) -> Any:
        """Run one statement in its own transaction; returns the result's rows (if any)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None

    async def commands(self, command_type: str | None = None) -> list[Any]:
        """The outbox rows, optionally of one type, oldest first."""
        where = "" if command_type is None else " WHERE command_type = :t"
        return await self.sql(
            f"SELECT id, command_type, payload, request_id, principal_id, status FROM outbox.commands{where}"
            " ORDER BY created_at",
            t=command_type,
        )

    # -- read-model seeding (the projector's job in production) ----------------------------------

    async def system(
        self, *, bootstrapped: bool = True, paused: bool = False, reason: str | None = None
    ) -> None:
        """Set the system row."""
        await self.sql(
            "INSERT INTO ledger.system_status (id, bootstrapped, paused, pause_reason, total_supply_qirat, block_number)"
            " VALUES (1, :b, :p, :r, 1250000000000000000, 1) ON CONFLICT (id) DO UPDATE SET bootstrapped = :b,"
            " paused = :p, pause_reason = :r",
            b=bootstrapped,
            p=paused,
            r=reason,
        )

    async def user(
        self,
        *,
        balance: int = 1_000 * GX,
        country: str = "LK",
        status: str = "ACTIVE",
        frozen: bool = False,
        user_id: str | None = None,
        admin: bool = False,
    ) -> str:
        """A ledger user with a wallet; returns the user id (= wallet id)."""
        uid = user_id or str(uuid.uuid4())
        await self.sql(
            "INSERT INTO ledger.users (user_id, country_code, status, genesis_received, admin, block_number, fabric_tx_id,"
            " create_time, update_time) VALUES (:u, :cc, :s, true, :a, 2, 'tx-seed', now(), now())",
            u=uid,
            cc=country,
            s=status,
            a=admin,
        )
        await self.sql(
            "INSERT INTO ledger.wallets (wallet_id, account_type, user_id, country_code, balance_qirat, frozen,"
            " frozen_reason, block_number, fabric_tx_id, create_time, update_time)"
            " VALUES (:u, 'USER', :u, :cc, :bal, :f, :fr, 2, 'tx-seed', now(), now())",
            u=uid,
            cc=country,
            bal=balance,
            f=frozen,
            fr="audit" if frozen else None,
        )
        return uid

    async def organization(
        self, *, status: str = "ACTIVE", org_type: str = "BUSINESS", country: str = "LK"
    ) -> str:
        """An organisation account; returns its id."""
        oid = str(uuid.uuid4())
        await self.sql(
            "INSERT INTO ledger.organizations (org_id, name, type, country_code, status, block_number)"
            " VALUES (:o, 'Shop', :t, :cc, :s, 3)",
            o=oid,
            t=org_type,
            cc=country,
            s=status,
        )
        await self.sql(
            "INSERT INTO ledger.wallets (wallet_id, account_type, country_code, balance_qirat, block_number, fabric_tx_id)"
            " VALUES (:o, 'ORGANIZATION', :cc, 0, 3, 'tx-org')",
            o=oid,
            cc=country,
        )
        return oid

    async def history(self, wallet_id: str, kind: str, amount: int, *, time: datetime, fee: int = 0) -> str:
        """One history row; returns its Fabric tx id."""
        tx = uuid.uuid4().hex
        await self.sql(
            "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type, amount_qirat, fee_qirat,"
            " counterparty, remark, block_number, time) VALUES (:tx, 0, 0, :w, :k, :a, :f, 'someone', 'r', 5, :t)",
            tx=tx,
            w=wallet_id,
            k=kind,
            a=amount,
            f=fee,
            t=time,
        )
        return tx

    async def reset(self) -> None:
        """Empty the read models, the outbox and the idempotency records between tests."""
        await self.sql(
            "TRUNCATE ledger.users, ledger.wallets, ledger.transactions, ledger.system_status, ledger.system_parameters,"
            " ledger.countries, ledger.organizations, ledger.projected_txs, ledger.checkpoints, ledger.loans, ledger.proposals, ledger.votes, ledger.multisig_txs, outbox.retries,"
            " outbox.commands, platform.idempotency_records CASCADE"
        )


async def migrated(database_url: str) -> None:
    """Applies every migration (Alembic runs its own loop, so in a thread)."""
    await asyncio.to_thread(migrate.upgrade, database_url)


@contextlib.asynccontextmanager
async def running_wallet(database_url: str, redis_url: str, **wallet: Any) -> AsyncIterator[Wallet]:
    """Starts the wallet on 127.0.0.1:0 with its real interceptors, health and reflection; stops it."""
    settings = WalletSettings(
        listen="127.0.0.1:0",
        database={"url": database_url},
        redis={"url": redis_url},
        wallet=wallet,
        health_check_interval_seconds=1.0,
    )
    signer = Signer("wallet-test")
    verifier = auth.TokenVerifier(
        auth.StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    async with contextlib.AsyncExitStack() as stack:
        engine, sessions = await stack.enter_async_context(open_database(settings.database))
        redis = await stack.enter_async_context(open_redis(settings.redis))
        read_pool = await stack.enter_async_context(open_autocommit_pool(settings.database))
        server = create_wallet_server(
            settings, engine, sessions, redis, verifier=verifier, read_pool=read_pool
        )
        await server.start()
        stack.push_async_callback(server.stop, 0)
        channel = grpc.aio.insecure_channel(server.address)
        stack.push_async_callback(channel.close)
        yield Wallet(
            server,
            engine,
            redis,
            signer,
            channel,
            wallet_service_pb2_grpc.WalletServiceStub(channel),
            admin_service_pb2_grpc.AdminServiceStub(channel),
        )


@dataclass(frozen=True)
class Failure:
    """What a failed call told the client."""

    code: grpc.StatusCode
    reason: str
    metadata: dict[str, str]
    fields: dict[str, str]
    message: str


async def failure(call: Any) -> Failure:
    """Await a call that must fail and decode its rich status."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        status = rpc_status.from_call(exc)
        reason, metadata, fields = "", {}, {}
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    reason, metadata = info.reason, dict(info.metadata)
                elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    fields = {v.field: v.description for v in bad.field_violations}
        return Failure(exc.code(), reason, metadata, fields, exc.details() or "")
    raise AssertionError("the call succeeded")


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)
