"""Runs the real identity and licensing servers in-process over real PostgreSQL and Redis.

Licensing verifies user tokens with identity's JWKS over gRPC and calls identity's
AddUserRole as a service with its own ES256 key, exactly as in production: identity trusts
the key from its service-keys directory. Nothing is faked.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from gx.identity.v1 import identity_service_pb2_grpc
from gx.licensing.v1 import licensing_service_pb2_grpc
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import open_database
from services.common.redis import open_redis
from services.common.server import GxServer
from services.common.service_auth import write_key_pair
from services.identity.server import create_identity_server
from services.identity.settings import IdentitySettings
from services.licensing.lastused import LastUsed, LastUsedFlusher
from services.licensing.metering import UsageFlusher
from services.licensing.server import create_licensing_server, open_identity_roles, open_statement_pool
from services.licensing.settings import LicensingSettings
from tests.grpc.identity.identity_harness import Identity, bearer, new_super_admin, new_user


@dataclass
class Mesh:
    """Identity and licensing running, and what the tests need around them."""

    identity: Identity
    licensing: GxServer
    flusher: LastUsedFlusher
    usage_flusher: UsageFlusher
    engine: AsyncEngine
    redis: Redis
    channel: grpc.aio.Channel
    stub: licensing_service_pb2_grpc.LicensingServiceStub
    keys_dir: Path
    _admin: tuple[tuple[str, str], ...] = field(default=())

    @property
    def last_used(self) -> LastUsed:
        return LastUsed(self.redis)

    async def admin(self) -> tuple[tuple[str, str], ...]:
        """Call metadata of a super-admin (created once per module)."""
        if not self._admin:
            _, tokens = await new_super_admin(self.identity)
            self._admin = bearer(tokens.access_token)
        return self._admin

    async def user(self, prefix: str = "user") -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """A fresh registered, signed-in user: (user id, email, call metadata)."""
        user_id, email, tokens = await new_user(self.identity, prefix)
        return user_id, email, bearer(tokens.access_token)

    async def sql(self, statement: str, **params: Any) -> Any:
        """Run one statement in its own transaction; returns the rows (if any)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None

    async def reset(self) -> None:
        """Empty licensing's tables, its Redis state and the idempotency records between tests."""
        for key in await self.redis.keys("licensing:*"):
            await self.redis.delete(key)
        await self.sql(
            "TRUNCATE licensing.usage_minutes, licensing.api_keys, licensing.licenses, licensing.partners,"
            " licensing.webhook_endpoints, licensing.webhook_events, platform.idempotency_records"
        )


@contextlib.asynccontextmanager
async def running_mesh(
    database_url: str, redis_url: str, workdir: Path, **licensing: Any
) -> AsyncIterator[Mesh]:
    """Starts identity and licensing on free ports; licensing's service key trusted by identity."""
    trusted = workdir / "trusted-service-keys"
    key_file = workdir / "licensing-service-key.pem"
    write_key_pair(key_file, trusted / "licensing.pem")
    # A second trusted service that identity grants nothing, for the refusal tests.
    write_key_pair(workdir / "wallet-service-key.pem", trusted / "wallet.pem")
    common: dict[str, Any] = {
        "listen": "127.0.0.1:0",
        "database": {"url": database_url},
        "redis": {"url": redis_url},
        "health_check_interval_seconds": 1.0,
    }
    identity_settings = IdentitySettings(
        **common, identity={"keys_dir": workdir / "identity-keys"}, auth={"service_keys_dir": str(trusted)}
    )
    async with contextlib.AsyncExitStack() as stack:
        engine, sessions = await stack.enter_async_context(open_database(identity_settings.database))
        redis = await stack.enter_async_context(open_redis(identity_settings.redis))
        identity_server = create_identity_server(identity_settings, engine, sessions, redis)
        await identity_server.start()
        stack.push_async_callback(identity_server.stop, 0)
        identity_channel = grpc.aio.insecure_channel(identity_server.address)
        stack.push_async_callback(identity_channel.close)
        identity = Identity(
            identity_server,
            identity_settings,
            engine,
            sessions,
            redis,
            identity_channel,
            identity_service_pb2_grpc.IdentityServiceStub(identity_channel),
        )
        settings = LicensingSettings(
            **common,
            auth={"jwks_target": identity_server.address, "service_key_file": str(key_file)},
            licensing=licensing,
        )
        roles = await stack.enter_async_context(open_identity_roles(settings))
        # As the process wires it: `GET /v1/partners/me` in one statement on the statement pool.
        statements = await stack.enter_async_context(open_statement_pool(settings))
        server, flushers = create_licensing_server(
            settings, engine, sessions, redis, roles, statements=statements
        )
        await server.start()
        stack.push_async_callback(server.stop, 0)
        channel = grpc.aio.insecure_channel(server.address)
        stack.push_async_callback(channel.close)
        yield Mesh(
            identity,
            server,
            flushers.last_used,
            flushers.usage,
            engine,
            redis,
            channel,
            licensing_service_pb2_grpc.LicensingServiceStub(channel),
            trusted,
        )


def new_request_id() -> str:
    """A fresh AIP-155 request id."""
    return str(uuid.uuid4())


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)
