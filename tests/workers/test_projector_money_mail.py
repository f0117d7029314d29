"""Money mail recorded by the projector (projector/notifications.py) on real PostgreSQL: once, never on replay or rebuild."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import json_format, timestamp_pb2
from gx.ledger.v1 import events_pb2
from gx.type.v1 import command_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import rebuild, store
from projector.notifications import format_gx
from projector.runner import apply_event

NAME = "gxchannel/gx"
E = events_pb2.LedgerEvent


def _payload(command: int, when: datetime, *events: events_pb2.LedgerEvent) -> bytes:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(when)
    message = events_pb2.LedgerEvents(
        events=list(events), request_id=str(uuid.uuid4()), command_type=command, function="f", time=stamp
    )
    return json_format.MessageToJson(message).encode()


def _chain(alice: str, bob: str, when: datetime) -> list[tuple[int, str, bytes]]:
    """Two users with genesis, a transfer alice → bob, a loan to bob, and a transfer to an organisation."""
    txs = []
    for n, user in enumerate((alice, bob)):
        txs.append(
            (
                1 + n,
                f"tx-create-{user}",
                _payload(
                    command_pb2.COMMAND_TYPE_CREATE_USER,
                    when,
                    E(
                        user_created=events_pb2.UserCreated(
                            user_id=user, country_code="LK", date_of_birth="1990-01-01"
                        )
                    ),
                    E(
                        genesis_distributed=events_pb2.GenesisDistributed(
                            user_id=user,
                            country_code="LK",
                            phase=1,
                            user_qirat=500_000_000,
                            user_balance_qirat=500_000_000,
                            treasury_account_id="treasury_LK",
                            treasury_qirat=0,
                            treasury_balance_qirat=0,
                            user_pool_balance_qirat=1,
                            govt_pool_balance_qirat=1,
                        )
                    ),
                ),
            )
        )
    txs.append(
        (
            3,
            f"tx-transfer-{bob}",
            _payload(
                command_pb2.COMMAND_TYPE_TRANSFER_TOKENS,
                when,
                E(
                    transfer_completed=events_pb2.TransferCompleted(
                        transfer_id="t:0",
                        from_account_id=alice,
                        to_account_id=bob,
                        amount_qirat=1_500_000,
                        fee_qirat=0,
                        from_balance_qirat=498_500_000,
                        to_balance_qirat=501_500_000,
                    )
                ),
            ),
        )
    )
    txs.append(
        (
            4,
            f"tx-loan-{bob}",
            _payload(
                command_pb2.COMMAND_TYPE_APPROVE_LOAN,
                when,
                E(
                    loan_approved=events_pb2.LoanApproved(
                        loan_id="loan-1",
                        borrower_id=bob,
                        approver_id="admin",
                        amount_qirat=2_000_000,
                        borrower_balance_qirat=503_500_000,
                        pool_balance_qirat=1,
                    )
                ),
            ),
        )
    )
    txs.append(
        (
            5,
            f"tx-org-{bob}",
            _payload(
                command_pb2.COMMAND_TYPE_TRANSFER_TOKENS,
                when,
                E(
                    transfer_completed=events_pb2.TransferCompleted(
                        transfer_id="t:1",
                        from_account_id=bob,
                        to_account_id="org-1",
                        amount_qirat=1,
                        fee_qirat=0,
                        from_balance_qirat=503_499_999,
                        to_balance_qirat=1,
                    )
                ),
            ),
        )
    )
    return txs  # fmt: skip


async def _apply_all(engine: AsyncEngine, txs: list[tuple[int, str, bytes]]) -> list[bool]:
    async with engine.connect() as conn:
        async with conn.begin():
            generation = (await store.load_checkpoint(conn, NAME)).generation
        return [await apply_event(conn, NAME, generation, b, tx, "LedgerEvents", p) for b, tx, p in txs]


async def _reset(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await rebuild.reset(conn, NAME)


async def _mail(engine: AsyncEngine, *users: str) -> list[Any]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT to_user_id::text AS user_id, template, payload, dedupe_key FROM notify.messages"
                " WHERE to_user_id::text = ANY(:users) ORDER BY created_at, template"
            ),
            {"users": list(users)},
        )
        return list(result)


def _users() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())


async def test_each_credit_to_a_user_records_one_mail_with_amount_and_new_balance(
    engine: AsyncEngine,
) -> None:
    alice, bob = _users()
    await _reset(engine)
    await _apply_all(engine, _chain(alice, bob, datetime.now(UTC)))
    mail = await _mail(engine, alice, bob)
    got = sorted((m.user_id, m.template, m.payload["amount_gx"], m.payload["balance_gx"]) for m in mail)
    assert got == sorted([
        (alice, "money_genesis_received", "500", "500"),
        (bob, "money_genesis_received", "500", "500"),
        (bob, "money_transfer_received", "1.5", "501.5"),
        (bob, "money_loan_disbursed", "2", "503.5"),
    ])  # fmt: skip
    loan = next(m for m in mail if m.template == "money_loan_disbursed")
    assert loan.payload["loan_id"] == "loan-1" and loan.payload["amount_qirat"] == 2_000_000
    assert loan.dedupe_key == f"money:tx-loan-{bob}:{bob}"


async def test_a_replay_and_a_rebuild_record_no_second_mail(engine: AsyncEngine) -> None:
    alice, bob = _users()
    chain = _chain(alice, bob, datetime.now(UTC))
    await _reset(engine)
    await _apply_all(engine, chain)
    first = await _mail(engine, alice, bob)
    assert len(first) == 4
    assert await _apply_all(engine, chain) == [False] * len(chain)  # a stream re-opened earlier
    await _reset(engine)  # gx projector rebuild
    assert await _apply_all(engine, chain) == [True] * len(chain)
    assert await _mail(engine, alice, bob) == first


async def test_transactions_older_than_the_horizon_record_no_mail(engine: AsyncEngine) -> None:
    alice, bob = _users()
    await _reset(engine)
    await _apply_all(engine, _chain(alice, bob, datetime.now(UTC) - timedelta(days=2)))
    async with engine.connect() as conn:
        balance = (
            await conn.execute(
                text("SELECT balance_qirat FROM ledger.wallets WHERE wallet_id = :w"), {"w": bob}
            )
        ).scalar_one()
    assert balance == 503_499_999  # projected all the same
    assert await _mail(engine, alice, bob) == []


async def test_a_ledger_user_unknown_to_identity_gets_no_mail_and_the_projection_goes_on(
    engine: AsyncEngine,
) -> None:
    await _reset(engine)
    applied = await _apply_all(engine, _chain("u-not-a-uuid", "u-neither", datetime.now(UTC)))
    assert applied == [True] * 5


def test_amounts_are_formatted_from_integer_qirat() -> None:
    assert [format_gx(q) for q in (0, 1, 1_500_000, 2_000_000, 1_234_567_890_123, -1)] == [
        "0", "0.000001", "1.5", "2", "1,234,567.890123", "-0.000001",
    ]  # fmt: skip
