"""Transfers over real gRPC: checks before acceptance, the outbox row, replay semantics and previews."""

from __future__ import annotations

import asyncio
import json
import uuid

import grpc
import pytest
from gx.ledger.v1 import commands_pb2 as ledger
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import wallet_service_pb2 as svc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import ledger_rules as rules
from services.common.idempotency import lock_id
from services.common.outbox import record_command
from tests.grpc.wallet.wallet_harness import GX, Wallet, failure


def _transfer(
    to: str, amount: int, *, request_id: str | None = None, by_wallet: bool = False, **kw: str
) -> svc.TransferRequest:
    recipient = {"to_wallet_id": to} if by_wallet else {"to_user_id": to}
    return svc.TransferRequest(
        wallet_id=kw.pop("wallet_id", "me"),
        request_id=request_id if request_id is not None else str(uuid.uuid4()),
        amount_qirat=amount,
        remark=kw.pop("remark", "lunch"),
        **recipient,
    )


async def test_transfer_records_transfer_tokens_in_the_outbox_and_answers_a_pending_operation(
    wallet: Wallet,
) -> None:
    await wallet.system()
    alice, bob = await wallet.user(balance=500 * GX), await wallet.user()
    call = wallet.wallets.Transfer(_transfer(bob, 50 * GX), metadata=wallet.token(alice))
    op = await call
    assert dict(await call.initial_metadata())["x-http-status"] == "202"
    assert op.name.startswith("operations/") and not op.done
    assert op.state == operation_pb2.OPERATION_STATE_PENDING
    assert op.command_type == command_pb2.COMMAND_TYPE_TRANSFER_TOKENS
    (row,) = await wallet.commands()
    assert (
        f"operations/{row.id}" == op.name
        and row.command_type == "TRANSFER_TOKENS"
        and row.principal_id == alice
    )
    assert row.payload == {
        "fromAccountId": alice,
        "toAccountId": bob,
        "amountQirat": str(50 * GX),
        "remark": "lunch",
        "requestId": row.request_id,
    }


async def test_transfer_by_wallet_id_reaches_an_active_organisation(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user()
    shop = await wallet.organization()
    await wallet.wallets.Transfer(_transfer(shop, 10 * GX, by_wallet=True), metadata=wallet.token(alice))
    (row,) = await wallet.commands()
    assert row.payload["toAccountId"] == shop


async def test_identical_replay_returns_the_same_operation_and_records_once(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    request = _transfer(bob, 5 * GX)
    first = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    second = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    assert second.name == first.name
    assert len(await wallet.commands()) == 1


async def test_replay_after_the_balance_changed_still_returns_the_first_operation(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(balance=10 * GX), await wallet.user()
    request = _transfer(bob, 9 * GX)
    first = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    await wallet.sql("UPDATE ledger.wallets SET balance_qirat = 0 WHERE wallet_id = :w", w=alice)
    assert (await wallet.wallets.Transfer(request, metadata=wallet.token(alice))).name == first.name


async def test_same_request_id_with_another_body_fails_request_id_reused(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    rid = str(uuid.uuid4())
    await wallet.wallets.Transfer(_transfer(bob, 5 * GX, request_id=rid), metadata=wallet.token(alice))
    bad = await failure(
        wallet.wallets.Transfer(_transfer(bob, 6 * GX, request_id=rid), metadata=wallet.token(alice))
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert len(await wallet.commands()) == 1


async def test_a_duplicate_while_the_first_is_in_flight_fails_aborted(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    rid = str(uuid.uuid4())
    # Hold the very lock the first request holds while its accept statement runs (the in-flight
    # marker is a PostgreSQL advisory lock now: the accept path uses no Redis).
    async with wallet.engine.connect() as holder:
        await holder.execute(
            text("SELECT pg_advisory_lock(:k)"), {"k": lock_id("wallet.Transfer", alice, rid)}
        )
        bad = await failure(
            wallet.wallets.Transfer(_transfer(bob, 5 * GX, request_id=rid), metadata=wallet.token(alice))
        )
        await holder.execute(text("SELECT pg_advisory_unlock_all()"))
    assert (bad.code, bad.reason) == (grpc.StatusCode.ABORTED, "REQUEST_IN_FLIGHT")
    assert await wallet.commands() == []


async def test_concurrent_identical_requests_record_one_command(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    request = _transfer(bob, 5 * GX)
    results = await asyncio.gather(
        *(wallet.wallets.Transfer(request, metadata=wallet.token(alice)) for _ in range(8)),
        return_exceptions=True,
    )
    names = {r.name for r in results if isinstance(r, operation_pb2.Operation)}
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(names) == 1
    assert all(r.code() == grpc.StatusCode.ABORTED for r in refused)
    assert len(await wallet.commands()) == 1


@pytest.mark.parametrize(
    ("setup", "code", "reason"),
    [
        ({"paused": True}, grpc.StatusCode.FAILED_PRECONDITION, "SYSTEM_PAUSED"),
        ({"sender_frozen": True}, grpc.StatusCode.FAILED_PRECONDITION, "WALLET_FROZEN"),
        ({"recipient_status": "INACTIVE"}, grpc.StatusCode.FAILED_PRECONDITION, "RECIPIENT_NOT_ACTIVE"),
        ({"amount": 1_001 * GX}, grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS"),
    ],
)
async def test_a_failed_check_records_nothing(
    wallet: Wallet, setup: dict, code: grpc.StatusCode, reason: str
) -> None:
    await wallet.system(paused=setup.get("paused", False), reason="maintenance")
    alice = await wallet.user(balance=1_000 * GX, frozen=setup.get("sender_frozen", False))
    bob = await wallet.user(
        frozen=setup.get("recipient_frozen", False), status=setup.get("recipient_status", "ACTIVE")
    )
    bad = await failure(
        wallet.wallets.Transfer(_transfer(bob, setup.get("amount", GX)), metadata=wallet.token(alice))
    )
    assert (bad.code, bad.reason) == (code, reason)
    if reason == "SYSTEM_PAUSED":
        assert "maintenance" in bad.message and bad.metadata["pause_reason"] == "maintenance"
    assert await wallet.commands() == []


async def test_a_frozen_wallet_still_receives(wallet: Wallet) -> None:
    # The contract (FreezeWallet) and the ledger's rule: freezing stops sending, not receiving.
    await wallet.system()
    alice, bob = await wallet.user(balance=10 * GX), await wallet.user(frozen=True)
    op = await wallet.wallets.Transfer(_transfer(bob, GX), metadata=wallet.token(alice))
    (row,) = await wallet.commands()
    assert (row.command_type, row.payload["toAccountId"]) == ("TRANSFER_TOKENS", bob)
    assert op.name == f"operations/{row.id}"


async def test_the_fee_counts_against_the_balance(wallet: Wallet) -> None:
    await wallet.system()
    # 100 GX local is 5 bps: 0.05 GX fee. Exactly amount + fee passes; one Qirat less fails.
    amount, fee = 100 * GX, 100 * GX * 5 // 10_000
    exact, short = await wallet.user(balance=amount + fee), await wallet.user(balance=amount + fee - 1)
    bob = await wallet.user()
    await wallet.wallets.Transfer(_transfer(bob, amount), metadata=wallet.token(exact))
    bad = await failure(wallet.wallets.Transfer(_transfer(bob, amount), metadata=wallet.token(short)))
    assert bad.reason == "INSUFFICIENT_FUNDS"
    assert bad.metadata == {"balance_qirat": str(amount + fee - 1), "required_qirat": str(amount + fee)}
    assert len(await wallet.commands()) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_qirat", 0),
        ("amount_qirat", -5),
        ("request_id", ""),
        ("request_id", "not-a-uuid"),
        ("to_user_id", "bob"),
    ],
)
async def test_bad_fields_fail_invalid_argument_naming_the_field(
    wallet: Wallet, field: str, value: object
) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    request = _transfer(bob, GX)
    setattr(request, field, value)
    bad = await failure(wallet.wallets.Transfer(request, metadata=wallet.token(alice)))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and field in bad.fields
    assert await wallet.commands() == []


async def test_recipient_checks_name_the_recipient_field(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user()
    cases = [
        (_transfer(str(uuid.uuid4()), GX), "RECIPIENT_NOT_FOUND", "to_user_id"),
        (_transfer(str(uuid.uuid4()), GX, by_wallet=True), "RECIPIENT_NOT_FOUND", "to_wallet_id"),
        (_transfer(alice, GX), "SELF_TRANSFER", "to_user_id"),
        (_transfer(alice.upper(), GX, by_wallet=True), "SELF_TRANSFER", "to_wallet_id"),
    ]
    for request, reason, field in cases:
        bad = await failure(wallet.wallets.Transfer(request, metadata=wallet.token(alice)))
        assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason) and field in bad.fields
    missing = svc.TransferRequest(wallet_id="me", request_id=str(uuid.uuid4()), amount_qirat=GX)
    bad = await failure(wallet.wallets.Transfer(missing, metadata=wallet.token(alice)))
    assert bad.reason == "RECIPIENT_REQUIRED" and "to_user_id" in bad.fields
    # A user id must name a user: an organisation's id is not one.
    shop = await wallet.organization()
    bad = await failure(wallet.wallets.Transfer(_transfer(shop, GX), metadata=wallet.token(alice)))
    assert bad.reason == "RECIPIENT_NOT_FOUND"
    assert await wallet.commands() == []


async def test_sending_from_another_users_wallet_is_not_found(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob, carol = await wallet.user(), await wallet.user(), await wallet.user()
    bad = await failure(
        wallet.wallets.Transfer(_transfer(carol, GX, wallet_id=bob), metadata=wallet.token(alice))
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "WALLET_NOT_FOUND")
    admin = await failure(
        wallet.wallets.Transfer(
            _transfer(carol, GX, wallet_id=bob), metadata=wallet.token(alice, "USER", "ADMIN")
        )
    )
    assert admin.code == grpc.StatusCode.NOT_FOUND
    assert await wallet.commands() == []


async def test_transfer_needs_a_token_and_the_user_role(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    bad = await failure(wallet.wallets.Transfer(_transfer(bob, GX)))
    assert bad.code == grpc.StatusCode.UNAUTHENTICATED
    bad = await failure(wallet.wallets.Transfer(_transfer(bob, GX), metadata=wallet.token(alice, "PARTNER")))
    assert bad.code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("amount", "bob_country", "bps", "cross"),
    [
        (2 * GX, "LK", 0, False),
        (50 * GX, "LK", 5, False),
        (500 * GX, "LK", 10, False),
        (50 * GX, "IN", 15, True),
        (500 * GX, "IN", 25, True),
    ],
)
async def test_preview_applies_the_chaincode_fee_tiers(
    wallet: Wallet, amount: int, bob_country: str, bps: int, cross: bool
) -> None:
    await wallet.system()
    alice, bob = await wallet.user(balance=10_000 * GX), await wallet.user(country=bob_country)
    preview = await wallet.wallets.PreviewTransfer(
        svc.PreviewTransferRequest(wallet_id="me", to_user_id=bob, amount_qirat=amount),
        metadata=wallet.token(alice),
    )
    assert (preview.fee_bps, preview.cross_border) == (bps, cross)
    assert preview.fee_qirat == amount * bps // 10_000
    assert preview.total_qirat == amount + preview.fee_qirat and preview.net_qirat == amount
    assert preview.balance_qirat == 10_000 * GX
    assert await wallet.commands() == []


async def test_preview_honours_a_lowered_fee_cap_and_an_organisation_counterparty(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user(balance=10_000 * GX)
    ngo = await wallet.organization(org_type="NGO")
    preview = await wallet.wallets.PreviewTransfer(
        svc.PreviewTransferRequest(wallet_id="me", to_wallet_id=ngo, amount_qirat=100 * GX),
        metadata=wallet.token(alice),
    )
    assert preview.fee_bps == 15  # merchant local
    await wallet.sql(
        "INSERT INTO ledger.system_parameters (name, value, block_number) VALUES ('transfer_fee_cap_bps', 7, 9)"
    )
    capped = await wallet.wallets.PreviewTransfer(
        svc.PreviewTransferRequest(wallet_id="me", to_wallet_id=ngo, amount_qirat=100 * GX),
        metadata=wallet.token(alice),
    )
    assert capped.fee_bps == 7 and capped.fee_qirat == 100 * GX * 7 // 10_000


async def test_preview_runs_the_transfer_checks(wallet: Wallet) -> None:
    await wallet.system(paused=True, reason="audit")
    alice, bob = await wallet.user(), await wallet.user()
    bad = await failure(
        wallet.wallets.PreviewTransfer(
            svc.PreviewTransferRequest(wallet_id="me", to_user_id=bob, amount_qirat=GX),
            metadata=wallet.token(alice),
        )
    )
    assert bad.reason == "SYSTEM_PAUSED"


def test_fee_rules_are_the_chaincodes_own_functions() -> None:
    from services.wallet import fees

    assert fees.rules is rules
    assert fees.default_fee_cap_bps() == rules.PARAMETERS["transfer_fee_cap_bps"].default


async def test_payload_is_the_canonical_ledger_json(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    rid = str(uuid.uuid4())
    await wallet.wallets.Transfer(_transfer(bob, 7, request_id=rid, remark=""), metadata=wallet.token(alice))
    (row,) = await wallet.commands()
    # Derived from (scope, user, client request id): stable across retries, distinct per user.
    from services.common.outbox import derive_request_id

    assert row.request_id == derive_request_id("wallet.Transfer", alice, rid)
    assert json.loads(json.dumps(row.payload))["amountQirat"] == "7" and "remark" not in row.payload


async def test_a_recipient_whose_creation_is_on_its_way_can_be_paid_and_the_transfer_runs_after_it(
    wallet: Wallet,
) -> None:
    await wallet.system()
    alice = await wallet.user(balance=500 * GX, country="LK")
    newcomer = str(uuid.uuid4())
    # KYC approved a moment ago: CREATE_USER recorded, not on the ledger or in the read models yet.
    async with AsyncSession(wallet.engine) as session, session.begin():
        created = await record_command(
            session,
            "CREATE_USER",
            ledger.CreateUserRequest(user_id=newcomer, country_code="IN", date_of_birth="1990-01-01"),
        )
    preview = await wallet.wallets.PreviewTransfer(
        svc.PreviewTransferRequest(wallet_id="me", to_user_id=newcomer, amount_qirat=50 * GX),
        metadata=wallet.token(alice),
    )
    # Priced as the ledger will price it: to a user in another country (cross-border).
    assert preview.cross_border and preview.fee_qirat > 0
    await wallet.wallets.Transfer(_transfer(newcomer, 50 * GX), metadata=wallet.token(alice))
    [row] = await wallet.sql(
        "SELECT payload, depends_on FROM outbox.commands WHERE command_type = 'TRANSFER_TOKENS'"
    )
    assert row.payload["toAccountId"] == newcomer
    assert f"operations/{row.depends_on}" == created.name

    # Once that CREATE_USER has failed, the recipient is absent again: refused, nothing recorded.
    await wallet.sql("UPDATE outbox.commands SET status = 'FAILED' WHERE command_type = 'CREATE_USER'")
    refused = await failure(wallet.wallets.Transfer(_transfer(newcomer, GX), metadata=wallet.token(alice)))
    assert refused.reason == "RECIPIENT_NOT_FOUND"
    assert len(await wallet.commands("TRANSFER_TOKENS")) == 1
