"""The notifier over real PostgreSQL and a real SMTP sink: once, retried through an outage, after a crash, per preference."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from notifier.__main__ import build
from notifier.metrics import NotifierMetrics
from notifier.repository import NotifierRepository
from notifier.settings import NotifierSettings, NotifierTuning, SmtpSettings
from notifier.transports import Message, Outcome
from notifier.worker import NotifierWorker, WorkerSettings
from services.common import notify
from services.common.runtime import run_process
from services.common.settings import DatabaseSettings
from tests.support.mail import MailSink
from tests.workers.conftest import wait_until

_CONTEXT = {"amount_gx": "5", "balance_gx": "105", "tx_id": "tx-1"}


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[MailSink]:
    async with MailSink(tmp_path / "mail") as running:
        yield running


def _settings(url: str, sink: MailSink, **tuning: Any) -> NotifierSettings:
    knobs: dict[str, Any] = {
        "poll_interval": 0.05,
        "backoff_initial": 0.05,
        "backoff_max": 0.2,
        "lease_seconds": 30.0,
    }
    knobs.update(tuning)
    return NotifierSettings(
        database=DatabaseSettings(url=SecretStr(url), pool_size=3),
        notifier=NotifierTuning(
            # The SMTP timeout stays below the lease (NotifierTuning checks it); the sink answers at once.
            smtp=SmtpSettings(
                host=sink.host,
                port=sink.port,
                sender="GX <no-reply@gx.test>",
                timeout_seconds=knobs["lease_seconds"] / 2,
            ),
            **knobs,
        ),
    )


@contextlib.asynccontextmanager
async def running_notifier(settings: NotifierSettings, build_fn: Any = build) -> AsyncIterator[None]:
    """`python -m notifier`'s wiring (services.common.runtime) in this loop, stopped on exit."""
    stop = asyncio.Event()
    wiring = functools.partial(build_fn, settings, metrics=NotifierMetrics(CollectorRegistry()))
    task = asyncio.create_task(run_process(settings, wiring, stop=stop))
    try:
        yield
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0


async def _enqueue(engine: AsyncEngine, **kwargs: Any) -> uuid.UUID:
    args: dict[str, Any] = {
        "to_address": None,
        "to_user_id": None,
        "template": "money_transfer_received",
        "context": _CONTEXT,
        "dedupe_key": f"test:{uuid.uuid4()}",
    }
    args.update(kwargs)
    async with AsyncSession(engine) as session, session.begin():
        return await notify.enqueue_email(session, **args)


async def _row(engine: AsyncEngine, message_id: uuid.UUID) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(text("SELECT * FROM notify.messages WHERE id = :id"), {"id": message_id})
        ).one()


def _status_is(engine: AsyncEngine, message_id: uuid.UUID, status: str) -> Any:
    async def check() -> bool:
        return bool((await _row(engine, message_id)).status == status)

    return check


async def test_a_queued_mail_is_delivered_once_with_both_parts(
    engine: AsyncEngine, notifier_url: str, sink: MailSink
) -> None:
    address = f"ana-{uuid.uuid4().hex[:6]}@example.org"
    message_id = await _enqueue(engine, to_address=address, context={**_CONTEXT, "tx_id": "<b>tx</b>"})
    async with running_notifier(_settings(notifier_url, sink)):
        await wait_until(_status_is(engine, message_id, "SENT"))
    mails = [mail for mail in sink.messages() if address in mail.to]
    assert len(mails) == 1
    mail = mails[0]
    assert mail.subject == "You received 5 GX"
    assert "Your new balance is 105 GX." in mail.text and "<b>tx</b>" in mail.text
    assert mail.html is not None and "&lt;b&gt;tx&lt;/b&gt;" in mail.html and "<b>tx</b>" not in mail.html
    assert mail.message_id == f"<{message_id}@gx.test>"
    row = await _row(engine, message_id)
    assert (row.attempts, row.last_error) == (1, None)
    assert row.sent_at is not None and row.last_response.startswith("250")


async def test_smtp_down_keeps_mail_queued_and_delivers_it_exactly_once_when_back(
    engine: AsyncEngine, notifier_url: str, sink: MailSink
) -> None:
    await sink.stop()
    address = f"bo-{uuid.uuid4().hex[:6]}@example.org"
    message_id = await _enqueue(engine, to_address=address)
    async with running_notifier(_settings(notifier_url, sink)):

        async def retried_twice() -> bool:
            row = await _row(engine, message_id)
            return bool(row.status == "PENDING" and row.attempts >= 2)

        await wait_until(retried_twice)
        row = await _row(engine, message_id)
        assert row.last_error.startswith("SMTP_UNAVAILABLE")
        assert row.next_attempt_at > row.created_at
        assert sink.messages() == []
        await sink.start()
        await wait_until(_status_is(engine, message_id, "SENT"))
    assert len([mail for mail in sink.messages() if address in mail.to]) == 1


async def test_a_claim_that_died_before_sending_is_delivered_once_after_its_lease(
    engine: AsyncEngine, notifier_url: str, sink: MailSink
) -> None:
    address = f"cy-{uuid.uuid4().hex[:6]}@example.org"
    message_id = await _enqueue(engine, to_address=address)
    # A notifier claims it and dies before sending: only its lease is left behind.
    dead = create_async_engine(notifier_url)
    try:
        claimed = await NotifierRepository(dead, lease_seconds=1.0).claim(["email"], 100)
    finally:
        await dead.dispose()
    assert message_id in [m.id for m in claimed]
    async with running_notifier(_settings(notifier_url, sink)):
        # Not before the lease runs out: the first claim's row is not due.
        row = await _row(engine, message_id)
        assert row.status == "PENDING" and row.attempts == 1
        await wait_until(_status_is(engine, message_id, "SENT"))
    assert (await _row(engine, message_id)).attempts == 2
    assert len([mail for mail in sink.messages() if address in mail.to]) == 1


class _FinishFailsOnce(NotifierRepository):
    """A crash after the relay accepted a message, before SENT was recorded (the at-least-once window)."""

    failed = False

    async def finish(
        self, message: Message, outcome: Outcome, next_attempt_at: datetime | None = None
    ) -> bool:
        if outcome.kind == "sent" and not _FinishFailsOnce.failed:
            _FinishFailsOnce.failed = True
            raise ConnectionError("database gone after the send")
        return await super().finish(message, outcome, next_attempt_at)


async def test_a_crash_after_the_send_resends_with_the_same_message_id(
    engine: AsyncEngine, notifier_url: str, sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notifier.__main__ as entry

    monkeypatch.setattr(entry, "NotifierRepository", _FinishFailsOnce)
    address = f"di-{uuid.uuid4().hex[:6]}@example.org"
    message_id = await _enqueue(engine, to_address=address)
    async with running_notifier(_settings(notifier_url, sink, lease_seconds=1.0)):
        await wait_until(_status_is(engine, message_id, "SENT"))
    mails = [mail for mail in sink.messages() if address in mail.to]
    # Sent twice (the documented window), both with the one Message-ID a receiver can drop a repeat by.
    assert [mail.message_id for mail in mails] == [f"<{message_id}@gx.test>"] * 2


async def _user(engine: AsyncEngine, money_emails: bool) -> tuple[uuid.UUID, str]:
    user_id = uuid.uuid4()
    address = f"u-{user_id.hex[:8]}@example.org"
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO identity.users (id, email, password_hash, roles, state, created_at, updated_at,"
                " money_emails) VALUES (:id, :email, 'x', ARRAY['USER'], 'ACTIVE', :now, :now, :money)"
            ),
            {"id": user_id, "email": address, "now": now, "money": money_emails},
        )
    return user_id, address


async def test_a_users_address_and_preference_are_read_at_send_time(
    engine: AsyncEngine, notifier_url: str, sink: MailSink
) -> None:
    on_user, on_address = await _user(engine, money_emails=True)
    off_user, off_address = await _user(engine, money_emails=False)
    on_id = await _enqueue(engine, to_user_id=on_user)
    off_id = await _enqueue(engine, to_user_id=off_user)
    missing_id = await _enqueue(engine, to_user_id=uuid.uuid4())
    async with running_notifier(_settings(notifier_url, sink)):
        await wait_until(_status_is(engine, on_id, "SENT"))
        await wait_until(_status_is(engine, off_id, "SKIPPED"))
        await wait_until(_status_is(engine, missing_id, "SKIPPED"))
    assert (await _row(engine, off_id)).last_error.startswith("PREFERENCE_OFF")
    assert (await _row(engine, missing_id)).last_error.startswith("NO_RECIPIENT")
    assert len([m for m in sink.messages() if on_address in m.to]) == 1
    assert [m for m in sink.messages() if off_address in m.to] == []


async def test_two_notifiers_share_the_queue_and_send_each_message_once(
    engine: AsyncEngine, notifier_url: str, sink: MailSink
) -> None:
    batch = f"{uuid.uuid4().hex[:6]}"
    ids = [await _enqueue(engine, to_address=f"m{i}-{batch}@example.org") for i in range(30)]
    settings = _settings(notifier_url, sink, batch_size=3, concurrency=3)
    async with running_notifier(settings), running_notifier(settings):

        async def all_sent() -> bool:
            return all([(await _row(engine, i)).status == "SENT" for i in ids])

        await wait_until(all_sent)
    received = [to_ for mail in sink.messages() for to_ in mail.to if batch in to_]
    assert sorted(received) == sorted(f"m{i}-{batch}@example.org" for i in range(30))
    assert {(await _row(engine, i)).attempts for i in ids} == {1}


async def test_a_message_older_than_the_channels_max_age_fails_without_a_send(
    engine: AsyncEngine, notifier_url: str, sink: MailSink
) -> None:
    address = f"old-{uuid.uuid4().hex[:6]}@example.org"
    message_id = await _enqueue(engine, to_address=address)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE notify.messages SET created_at = now() - interval '3 days' WHERE id = :id"),
            {"id": message_id},
        )
    async with running_notifier(_settings(notifier_url, sink)):
        await wait_until(_status_is(engine, message_id, "FAILED"))
    assert (await _row(engine, message_id)).last_error.startswith("EXPIRED")
    assert [m for m in sink.messages() if address in m.to] == []


async def test_finished_messages_past_retention_are_purged_and_pending_ones_never(
    engine: AsyncEngine, notifier_url: str
) -> None:
    old_sent = [await _enqueue(engine, to_address=f"p{i}@example.org") for i in range(3)]
    old_pending, recent_sent = (
        await _enqueue(engine, to_address="q@example.org"),
        await _enqueue(engine, to_address="r@example.org"),
    )
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE notify.messages SET status = 'SENT', updated_at = now() - interval '2 hours' WHERE id = ANY(:ids)"
            ),
            {"ids": old_sent},
        )
        await conn.execute(
            text("UPDATE notify.messages SET updated_at = now() - interval '2 hours' WHERE id = :id"),
            {"id": old_pending},
        )
        await conn.execute(
            text("UPDATE notify.messages SET status = 'SENT' WHERE id = :id"), {"id": recent_sent}
        )
    own = create_async_engine(notifier_url)
    try:
        worker = NotifierWorker(
            NotifierRepository(own, lease_seconds=30),
            {},
            NotifierMetrics(CollectorRegistry()),
            WorkerSettings(retention_seconds=3600, purge_batch_size=2),
            listen_dsn=None,
        )
        assert await worker.purge_once() >= 3  # in batches of 2, as the notifier's own user
    finally:
        await own.dispose()
    async with engine.connect() as conn:
        left = set(
            (
                await conn.execute(
                    text("SELECT id FROM notify.messages WHERE id = ANY(:ids)"),
                    {"ids": [*old_sent, old_pending, recent_sent]},
                )
            ).scalars()
        )
    assert left == {old_pending, recent_sent}
