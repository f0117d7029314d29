"""Fixtures for the worker tests: a migrated database per module and helpers to record commands."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as c
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from services.common import migrate
from services.common.outbox import record_command
from tests.support.ledger import Ledger, running_ledger
from tests.support.roles import as_process
from tests.support.stack import PostgresHandle


@pytest.fixture(scope="module")
def migrated_url(postgres: PostgresHandle) -> Iterator[str]:
    """A fresh database at the head migration, for one test module."""
    url = postgres.create_database("workers")
    migrate.upgrade(url)
    try:
        yield url
    finally:
        postgres.drop_database(url)


@pytest.fixture(scope="module")
async def ledger(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    """The devnet peer with the GX chaincode, for one test module (a module may define its own)."""
    async with running_ledger(
        tmp_path_factory.mktemp("ledger"), chaincode="gx", batch_timeout=0.05
    ) as running:
        yield running


@pytest.fixture(scope="module")
def notifier_url(migrated_url: str) -> str:
    """The module database's URL as the notifier's own least-privilege user (gx_notifier)."""
    return as_process(migrated_url, "notifier")


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the module's database."""
    eng = create_async_engine(migrated_url, pool_size=5)
    try:
        yield eng
    finally:
        await eng.dispose()


def new_id() -> str:
    """A fresh ledger id (a user's or an organisation's account)."""
    return str(uuid.uuid4())


def pay(sender: str, receiver: str) -> c.TransferTokensRequest:
    """A one-Qirat transfer with a fresh request id: the ordering keys are what these tests look at."""
    return c.TransferTokensRequest(
        request_id=str(uuid.uuid4()), from_account_id=sender, to_account_id=receiver, amount_qirat=1
    )


async def quiet_queue(engine: AsyncEngine) -> None:
    """Finish whatever earlier tests left live, so only this test's commands are in the queue."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE outbox.commands SET status = 'FAILED', error_code = 'TEST_RESET',"
                " lease_owner = NULL WHERE status IN ('PENDING', 'SUBMITTED')"
            )
        )


async def record(
    engine: AsyncEngine, command_type: str, payload: Message, request_id: str | None = None
) -> uuid.UUID:
    """Record a command exactly as a service does (services.common.outbox.record_command, with NOTIFY)."""
    async with AsyncSession(engine) as session, session.begin():
        operation = await record_command(session, command_type, payload, request_id=request_id)
    return uuid.UUID(operation.name.removeprefix("operations/"))


async def command_row(engine: AsyncEngine, command_id: uuid.UUID) -> object:
    """The command's current row."""
    async with engine.connect() as conn:
        return (
            await conn.execute(text("SELECT * FROM outbox.commands WHERE id = :id"), {"id": command_id})
        ).one()


async def wait_until(predicate: object, limit: float = 30.0, interval: float = 0.05) -> None:
    """Await `predicate()` (async) until true; fail after `limit` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        if await predicate():  # type: ignore[operator]
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {limit}s")
        await asyncio.sleep(interval)
