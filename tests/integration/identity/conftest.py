"""Identity use cases over a freshly migrated real PostgreSQL and a real Redis (one per module)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from gx.identity.v1 import identity_service_pb2 as svc
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common import migrate
from services.common.db import open_database
from services.common.redis import open_redis
from services.identity.accounts import AccountUseCases
from services.identity.keys import KeyStore
from services.identity.server import build_all_usecases
from services.identity.settings import IdentitySettings
from services.identity.usecases import Caller, IdentityUseCases
from tests.support import mail_queue


@dataclass
class Wired:
    """The use cases and the resources under them."""

    usecases: IdentityUseCases
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    settings: IdentitySettings
    accounts: AccountUseCases

    async def verify_email(self, caller: Caller, email: str) -> None:
        """Verifies the caller's address with the code of its latest verification mail
        (read from the notifications outbox, as no notifier runs here)."""
        code = (await mail_queue.latest_mail(self.engine, email, "email_verification"))["code"]
        await self.accounts.verify_email(caller, svc.VerifyEmailRequest(user_id="me", code=code))


@pytest.fixture(scope="module")
async def wired(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Wired]:
    await asyncio.to_thread(migrate.upgrade, database_url)
    settings = IdentitySettings(
        database={"url": database_url},
        redis={"url": redis_url},
        identity={"keys_dir": tmp_path_factory.mktemp("keys"), "lockout_ip_limit": 10_000},
    )
    async with open_database(settings.database) as (engine, sessions), open_redis(settings.redis) as redis:
        keys = KeyStore.open(settings.identity.keys_dir)
        usecases, accounts = build_all_usecases(settings, sessions, redis, keys)
        yield Wired(usecases, engine, sessions, redis, settings, accounts)
