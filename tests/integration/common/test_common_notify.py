"""Recording outgoing messages in notify.messages (services/common/notify.py), on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common import db, migrate, notify
from services.common.settings import DatabaseSettings


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await asyncio.to_thread(migrate.upgrade, database_url, "0013_notifications")
    async with db.open_database(DatabaseSettings(url=SecretStr(database_url), pool_size=3)) as (_, factory):
        yield factory


async def _rows(sessions: async_sessionmaker[AsyncSession], key: str) -> list[object]:
    async with sessions() as s:
        result = await s.execute(text("SELECT * FROM notify.messages WHERE dedupe_key = :k"), {"k": key})
        return list(result)


async def test_enqueue_email_records_a_pending_message(sessions: async_sessionmaker[AsyncSession]) -> None:
    key = f"test:{uuid.uuid4()}"
    async with sessions.begin() as s:
        message_id = await notify.enqueue_email(
            s,
            to_address="ana@example.org",
            to_user_id=None,
            template="welcome",
            context={"n": 5},
            dedupe_key=key,
        )
    (row,) = await _rows(sessions, key)
    assert row.id == message_id  # type: ignore[attr-defined]
    assert (row.channel, row.destination, row.to_user_id, row.template) == (
        "email",
        "ana@example.org",
        None,
        "welcome",
    )  # type: ignore[attr-defined]
    assert (row.status, row.attempts, row.payload, row.sent_at) == ("PENDING", 0, {"n": 5}, None)  # type: ignore[attr-defined]


async def test_the_same_dedupe_key_records_nothing_twice(sessions: async_sessionmaker[AsyncSession]) -> None:
    key = f"test:{uuid.uuid4()}"
    user = uuid.uuid4()
    async with sessions.begin() as s:
        first = await notify.enqueue_email(
            s, to_address=None, to_user_id=user, template="t", context={}, dedupe_key=key
        )
        again = await notify.enqueue_email(
            s, to_address=None, to_user_id=user, template="t", context={}, dedupe_key=key
        )
    async with sessions.begin() as s:
        later = await notify.enqueue_email(
            s, to_address=None, to_user_id=user, template="t", context={}, dedupe_key=key
        )
    assert first == again == later
    assert len(await _rows(sessions, key)) == 1


async def test_a_rolled_back_transaction_leaves_no_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    key = f"test:{uuid.uuid4()}"
    with pytest.raises(RuntimeError):
        async with sessions.begin() as s:
            await notify.enqueue_email(
                s, to_address="a@b.c", to_user_id=None, template="t", context={}, dedupe_key=key
            )
            raise RuntimeError("the event's transaction fails")
    assert await _rows(sessions, key) == []


async def test_notify_wakes_a_listener_on_commit_only(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    plain = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    received: list[psycopg.Notify] = []
    async with await psycopg.AsyncConnection.connect(plain, autocommit=True) as listener:
        listener.add_notify_handler(received.append)
        await listener.execute(f"LISTEN {notify.NOTIFY_CHANNEL}")
        async with sessions.begin() as s:
            await notify.enqueue_email(
                s,
                to_address="a@b.c",
                to_user_id=None,
                template="t",
                context={},
                dedupe_key=f"test:{uuid.uuid4()}",
            )
            await listener.execute("SELECT 1")  # a round trip delivers what is pending
            assert received == []  # not before commit
        for _ in range(50):
            await listener.execute("SELECT 1")
            if received:
                break
            await asyncio.sleep(0.05)
    assert [(n.channel, n.payload) for n in received] == [(notify.NOTIFY_CHANNEL, "email")]


@pytest.mark.parametrize(
    ("address", "user", "template", "context"),
    [
        (None, None, "t", {}),  # no recipient
        ("a@b.c", uuid.uuid4(), "t", {}),  # two recipients
        ("a@b.c\r\nBcc: x@y.z", None, "t", {}),  # header injection
        ("a@b.c\n", None, "t", {}),
        ("no-at-sign", None, "t", {}),
        ("a@b.c", None, "../etc/passwd", {}),  # template path
        ("a@b.c", None, "t", {"x": float("nan")}),  # not JSON
        ("a@b.c", None, "t", {"x": object()}),
    ],
)
async def test_malformed_arguments_write_nothing(
    sessions: async_sessionmaker[AsyncSession],
    address: str | None,
    user: uuid.UUID | None,
    template: str,
    context: dict[str, object],
) -> None:
    key = f"test:{uuid.uuid4()}"
    with pytest.raises((ValueError, TypeError)):
        async with sessions.begin() as s:
            await notify.enqueue_email(
                s, to_address=address, to_user_id=user, template=template, context=context, dedupe_key=key
            )
    assert await _rows(sessions, key) == []
