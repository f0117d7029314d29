"""Runs the real identity server in-process over real PostgreSQL and Redis, for the identity tests."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from gx.identity.v1 import identity_service_pb2 as svc
from gx.identity.v1 import identity_service_pb2_grpc
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common import migrate
from services.common.db import open_database
from services.common.redis import open_redis
from services.common.server import GxServer
from services.identity.keys import KeyStore
from services.identity.passwords import PasswordHashing
from services.identity.server import create_identity_server, open_statement_pool
from services.identity.settings import IdentitySettings
from services.identity.usecases import create_super_admin
from tests.support import mail_queue

PASSWORD = "Correct horse 42 battery"
ADMIN_PASSWORD = "Admin pass phrase 2026!"


@dataclass
class Identity:
    """A running identity server and what tests need around it."""

    server: GxServer
    settings: IdentitySettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    channel: grpc.aio.Channel
    stub: identity_service_pb2_grpc.IdentityServiceStub

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def keys(self) -> KeyStore:
        return KeyStore.open(self.settings.identity.keys_dir)


async def migrated(database_url: str) -> None:
    """Applies every migration (Alembic runs its own loop, so in a thread)."""
    await asyncio.to_thread(migrate.upgrade, database_url)


@contextlib.asynccontextmanager
async def running_identity(
    database_url: str, redis_url: str, keys_dir: Path, **identity: Any
) -> AsyncIterator[Identity]:
    """Starts identity on 127.0.0.1:0 with its real interceptors, health, reflection and statement
    pool; stops it."""
    settings = IdentitySettings(
        listen="127.0.0.1:0",
        database={"url": database_url},
        redis={"url": redis_url},
        identity={"keys_dir": keys_dir, **identity},
        health_check_interval_seconds=1.0,
    )
    async with contextlib.AsyncExitStack() as stack:
        engine, sessions = await stack.enter_async_context(open_database(settings.database))
        redis = await stack.enter_async_context(open_redis(settings.redis))
        # The statement pool too, as `server.build` opens it: a user's own GetUser takes the
        # one-statement path here, everything else the transactional one.
        statements = await stack.enter_async_context(open_statement_pool(settings))
        server = create_identity_server(settings, engine, sessions, redis, statements)
        await server.start()
        stack.push_async_callback(server.stop, 0)
        channel = grpc.aio.insecure_channel(server.address)
        stack.push_async_callback(channel.close)
        yield Identity(
            server,
            settings,
            engine,
            sessions,
            redis,
            channel,
            identity_service_pb2_grpc.IdentityServiceStub(channel),
        )


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying an access token."""
    return (("authorization", f"Bearer {token}"),)


def unique_email(prefix: str = "user") -> str:
    """An email no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


async def register(identity: Identity, email: str | None = None, **fields: Any) -> svc.RegisterUserResponse:
    """Registers a user with the default password."""
    request = svc.RegisterUserRequest(
        email=email or unique_email(), password=fields.pop("password", PASSWORD), **fields
    )
    return await identity.stub.RegisterUser(request)


async def login(identity: Identity, email: str, password: str = PASSWORD) -> svc.LoginResponse:
    """Logs in."""
    return await identity.stub.Login(svc.LoginRequest(email=email, password=password))


async def new_user(
    identity: Identity, prefix: str = "user", *, verified: bool = True
) -> tuple[str, str, svc.LoginResponse]:
    """Registers and logs in a fresh user: (user id, email, tokens); the email is verified with
    the code of the registration mail (as the user would), unless `verified` is False."""
    email = unique_email(prefix)
    user = (await register(identity, email)).user
    tokens = await login(identity, email)
    if verified:
        await verify_email_from_mail(identity, email, tokens.access_token)
    return user.user_id, email, tokens


async def queued_mail(identity: Identity, email: str, template: str) -> dict[str, Any]:
    """The context of the latest mail of `template` queued for `email` (tests.support.mail_queue)."""
    return await mail_queue.latest_mail(identity.engine, email, template)


async def mail_count(identity: Identity, email: str, template: str) -> int:
    """How many mails of `template` were queued for `email`."""
    return await mail_queue.mail_count(identity.engine, email, template)


async def wait_for_mails(identity: Identity, email: str, template: str, count: int) -> None:
    """Waits until at least `count` mails of `template` were queued for `email`."""
    await mail_queue.wait_for_mails(identity.engine, email, template, count)


async def verify_email_from_mail(
    identity: Identity, email: str, access_token: str
) -> svc.VerifyEmailResponse:
    """Verifies the address with the code of the latest verification mail, through the API."""
    code = (await queued_mail(identity, email, "email_verification"))["code"]
    return await identity.stub.VerifyEmail(
        svc.VerifyEmailRequest(user_id="me", code=code), metadata=bearer(access_token)
    )


async def new_super_admin(identity: Identity) -> tuple[str, svc.LoginResponse]:
    """Creates a super-admin the way `gx identity create-admin` does, and logs in."""
    email = unique_email("admin")
    user, _ = await create_super_admin(
        identity.sessions, PasswordHashing(), email, ADMIN_PASSWORD, datetime.now(UTC)
    )
    return str(user.id), await login(identity, email, ADMIN_PASSWORD)


def rich_error(
    error: grpc.aio.AioRpcError,
) -> tuple[error_details_pb2.ErrorInfo | None, error_details_pb2.BadRequest | None]:
    """The ErrorInfo and BadRequest details of a failed call."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    info = bad = None
    if status is None:
        return None, None
    assert isinstance(status, status_pb2.Status)
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
    return info, bad
