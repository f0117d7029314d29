"""A transfer on the ledger ends in the recipient's mailbox: real devnet and chaincode, real outbox,
projector and notifier processes (`python -m ...`), real PostgreSQL and a real SMTP sink.

Identity's part (the users' addresses and preferences) is inserted as identity would have them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gx.ledger.v1 import commands_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.ledger import Ledger
from tests.support.mail import MailSink
from tests.workers.conftest import record, wait_until
from tests.workers.mesh import WorkerProcess, chain_balances, operations_done, running_workers, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def sink(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[MailSink]:
    async with MailSink(Path(tmp_path_factory.mktemp("mail"))) as running:
        yield running


@pytest.fixture(scope="module")
async def workers(
    ledger: Ledger, migrated_url: str, sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, WorkerProcess]]:
    logs = tmp_path_factory.mktemp("worker-logs")
    env = worker_env(
        migrated_url,
        ledger,
        GX_NOTIFIER__SMTP__HOST=sink.host,
        GX_NOTIFIER__SMTP__PORT=str(sink.port),
        GX_NOTIFIER__SMTP__FROM="GX <no-reply@gx.test>",
        GX_NOTIFIER__POLL_INTERVAL="0.2",
    )
    async with running_workers(("outbox", "projector", "notifier"), logs, env) as procs:
        yield procs


async def _identity_user(engine: AsyncEngine, user_id: str, email: str, money_emails: bool) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO identity.users (id, email, password_hash, roles, state, created_at, updated_at,"
                " money_emails) VALUES (:id, :email, 'x', ARRAY['USER'], 'APPROVED_PENDING_ONCHAIN', :now, :now,"
                " :money)"
            ),
            {"id": user_id, "email": email, "now": now, "money": money_emails},
        )


async def test_the_recipient_of_a_transfer_gets_one_mail_with_amount_and_new_balance(
    engine: AsyncEngine, ledger: Ledger, sink: MailSink, workers: dict[str, WorkerProcess]
) -> None:
    rid = lambda: str(uuid.uuid4())  # noqa: E731
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    alice_mail, bob_mail = f"alice-{alice[:8]}@example.org", f"bob-{bob[:8]}@example.org"
    await _identity_user(engine, alice, alice_mail, money_emails=False)  # switched money mail off
    await _identity_user(engine, bob, bob_mail, money_emails=True)
    setup = [await record(engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=rid()))]
    await wait_until(lambda: operations_done(engine, setup), 60)
    setup.append(
        await record(
            engine,
            "INITIALIZE_COUNTRY",
            commands_pb2.InitializeCountriesRequest(
                request_id=rid(),
                countries=[commands_pb2.CountryShare(country_code="LK", name="Sri Lanka", share_bps=10_000)],
            ),
        )
    )
    await wait_until(lambda: operations_done(engine, setup), 60)
    users = [
        await record(
            engine,
            "CREATE_USER",
            commands_pb2.CreateUserRequest(
                request_id=rid(), user_id=user, country_code="LK", date_of_birth="1990-05-17"
            ),
        )
        for user in (alice, bob)
    ]
    try:
        await wait_until(lambda: operations_done(engine, users), 60)
    except AssertionError:
        raise AssertionError("".join(w.log() for w in workers.values())) from None
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

    received = await sink.wait_for(lambda mails: sum(bob_mail in m.to for m in mails) >= 2, limit=60)
    to_bob = [m for m in received if bob_mail in m.to]
    balance = (await chain_balances(ledger))[bob]
    (genesis,) = [m for m in to_bob if m.subject.startswith("Welcome to GX")]
    (money,) = [m for m in to_bob if m.subject == "You received 120 GX"]
    whole, fraction = divmod(balance, 1_000_000)
    expected = f"{whole:,}" + (f".{fraction:06d}".rstrip("0") if fraction else "")
    assert f"Your new balance is {expected} GX." in money.text
    assert money.html is not None and f"{expected} GX" in money.html

    # Alice switched money mail off: her genesis mail is skipped at send time, not sent.
    async def alice_handled() -> bool:
        async with engine.connect() as conn:
            statuses = (
                (
                    await conn.execute(
                        text("SELECT status FROM notify.messages WHERE to_user_id = CAST(:u AS uuid)"),
                        {"u": alice},
                    )
                )
                .scalars()
                .all()
            )
        return bool(statuses) and "PENDING" not in statuses

    await wait_until(alice_handled, 30)
    async with engine.connect() as conn:
        alice_rows = (
            await conn.execute(
                text("SELECT status, last_error FROM notify.messages WHERE to_user_id = CAST(:u AS uuid)"),
                {"u": alice},
            )
        ).all()
        bob_rows = (
            await conn.execute(
                text("SELECT status FROM notify.messages WHERE to_user_id = CAST(:u AS uuid)"), {"u": bob}
            )
        ).all()
    assert [(r.status, r.last_error.split(":")[0]) for r in alice_rows] == [("SKIPPED", "PREFERENCE_OFF")]
    assert sorted(r.status for r in bob_rows) == ["SENT", "SENT"]
    assert [m for m in sink.messages() if alice_mail in m.to] == []
    assert len([m for m in sink.messages() if bob_mail in m.to]) == 2
    assert genesis.message_id != money.message_id
