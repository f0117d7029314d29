"""Wallet reads and operations over real gRPC: ownership, paging, filters, GetOperation and WaitOperation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from gx.type.v1 import operation_pb2
from gx.wallet.v1 import wallet_pb2
from gx.wallet.v1 import wallet_service_pb2 as svc

from tests.grpc.wallet.wallet_harness import GX, Wallet, failure, now


async def test_owner_reads_own_wallet_by_id_and_me(wallet: Wallet) -> None:
    alice = await wallet.user(balance=123 * GX, country="LK")
    for wallet_id in (alice, "me", alice.upper()):
        got = (
            await wallet.wallets.GetWallet(
                svc.GetWalletRequest(wallet_id=wallet_id), metadata=wallet.token(alice)
            )
        ).wallet
        assert (got.wallet_id, got.user_id, got.balance_qirat, got.country_code) == (
            alice,
            alice,
            123 * GX,
            "LK",
        )
        assert got.genesis_received and not got.frozen and got.update_time.seconds > 0


async def test_other_users_wallet_is_not_found_but_admins_read_any(wallet: Wallet) -> None:
    alice, bob = await wallet.user(), await wallet.user(frozen=True)
    bad = await failure(
        wallet.wallets.GetWallet(svc.GetWalletRequest(wallet_id=bob), metadata=wallet.token(alice))
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "WALLET_NOT_FOUND")
    missing = await failure(
        wallet.wallets.GetWallet(
            svc.GetWalletRequest(wallet_id=str(uuid.uuid4())), metadata=wallet.token(alice)
        )
    )
    assert (missing.code, missing.reason) == (bad.code, bad.reason)
    admin = str(uuid.uuid4())
    got = (
        await wallet.wallets.GetWallet(
            svc.GetWalletRequest(wallet_id=bob), metadata=wallet.token(admin, "ADMIN")
        )
    ).wallet
    assert got.frozen and got.frozen_reason == "audit"


async def test_malformed_wallet_id_names_the_field(wallet: Wallet) -> None:
    alice = await wallet.user()
    bad = await failure(
        wallet.wallets.GetWallet(svc.GetWalletRequest(wallet_id="nope"), metadata=wallet.token(alice))
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "wallet_id" in bad.fields


async def test_history_pages_newest_first_with_an_opaque_token(wallet: Wallet) -> None:
    alice = await wallet.user()
    base = now() - timedelta(hours=1)
    txs = [
        await wallet.history(alice, "RECEIVED", (i + 1) * GX, time=base + timedelta(minutes=i))
        for i in range(5)
    ]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id="me", page_size=2, page_token=token),
            metadata=wallet.token(alice),
        )
        pages += 1
        seen += [t.fabric_tx_id for t in page.transactions]
        token = page.next_page_token
        if not token:
            break
    assert pages == 3 and seen == list(reversed(txs))
    first = (
        await wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id="me"), metadata=wallet.token(alice)
        )
    ).transactions[0]
    assert first.type == wallet_pb2.TRANSACTION_TYPE_RECEIVED and first.amount_qirat == 5 * GX
    assert first.tx_id == f"{txs[-1]}:0" and first.wallet_id == alice and first.time.seconds > 0


async def test_history_filters_by_type_and_time(wallet: Wallet) -> None:
    alice = await wallet.user()
    t0 = now() - timedelta(days=2)
    await wallet.history(alice, "GENESIS", 500 * GX, time=t0)
    sent = await wallet.history(alice, "SENT", 10 * GX, fee=5_000, time=t0 + timedelta(days=1))
    await wallet.history(alice, "FEE", 5_000, time=t0 + timedelta(days=1))
    page = await wallet.wallets.ListTransactions(
        svc.ListTransactionsRequest(
            wallet_id="me", types=[wallet_pb2.TRANSACTION_TYPE_SENT, wallet_pb2.TRANSACTION_TYPE_GENESIS]
        ),
        metadata=wallet.token(alice),
    )
    assert [t.type for t in page.transactions] == [
        wallet_pb2.TRANSACTION_TYPE_SENT,
        wallet_pb2.TRANSACTION_TYPE_GENESIS,
    ]
    assert page.transactions[0].fee_qirat == 5_000
    start = Timestamp()
    start.FromDatetime(t0 + timedelta(hours=12))
    recent = await wallet.wallets.ListTransactions(
        svc.ListTransactionsRequest(wallet_id="me", start_time=start), metadata=wallet.token(alice)
    )
    assert {t.fabric_tx_id for t in recent.transactions} >= {sent} and len(recent.transactions) == 2
    end = Timestamp()
    end.FromDatetime(t0 + timedelta(hours=12))
    old = await wallet.wallets.ListTransactions(
        svc.ListTransactionsRequest(wallet_id="me", end_time=end), metadata=wallet.token(alice)
    )
    assert [t.type for t in old.transactions] == [wallet_pb2.TRANSACTION_TYPE_GENESIS]
    bad = await failure(
        wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id="me", start_time=start, end_time=end),
            metadata=wallet.token(alice),
        )
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "end_time" in bad.fields


async def test_page_token_from_another_filter_or_forged_is_refused(wallet: Wallet) -> None:
    alice = await wallet.user()
    for i in range(3):
        await wallet.history(alice, "RECEIVED", GX, time=now() - timedelta(minutes=i))
    token = (
        await wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id="me", page_size=1), metadata=wallet.token(alice)
        )
    ).next_page_token
    assert token
    for request in (
        svc.ListTransactionsRequest(
            wallet_id="me", page_token=token, types=[wallet_pb2.TRANSACTION_TYPE_SENT]
        ),
        svc.ListTransactionsRequest(wallet_id="me", page_token="!!garbage!!"),
    ):
        bad = await failure(wallet.wallets.ListTransactions(request, metadata=wallet.token(alice)))
        assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
        assert "page_token" in bad.fields


async def test_history_of_another_users_wallet_is_not_found(wallet: Wallet) -> None:
    alice, bob = await wallet.user(), await wallet.user()
    bad = await failure(
        wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id=bob), metadata=wallet.token(alice)
        )
    )
    assert bad.code == grpc.StatusCode.NOT_FOUND


async def _accepted_transfer(wallet: Wallet) -> tuple[str, str]:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    op = await wallet.wallets.Transfer(
        svc.TransferRequest(wallet_id="me", request_id=str(uuid.uuid4()), to_user_id=bob, amount_qirat=GX),
        metadata=wallet.token(alice),
    )
    return alice, op.name.removeprefix("operations/")


async def test_get_operation_for_its_owner_and_admins_only(wallet: Wallet) -> None:
    alice, op_id = await _accepted_transfer(wallet)
    got = await wallet.wallets.GetOperation(
        svc.GetOperationRequest(operation_id=op_id), metadata=wallet.token(alice)
    )
    assert got.name == f"operations/{op_id}" and got.state == operation_pb2.OPERATION_STATE_PENDING
    admin = await wallet.wallets.GetOperation(
        svc.GetOperationRequest(operation_id=op_id), metadata=wallet.token(str(uuid.uuid4()), "SUPER_ADMIN")
    )
    assert admin.name == got.name
    other = await failure(
        wallet.wallets.GetOperation(
            svc.GetOperationRequest(operation_id=op_id), metadata=wallet.token(str(uuid.uuid4()))
        )
    )
    assert (other.code, other.reason) == (grpc.StatusCode.NOT_FOUND, "OPERATION_NOT_FOUND")
    missing = await failure(
        wallet.wallets.GetOperation(
            svc.GetOperationRequest(operation_id=str(uuid.uuid4())), metadata=wallet.token(alice)
        )
    )
    assert missing.reason == "OPERATION_NOT_FOUND"


async def test_wait_operation_returns_once_committed_and_projected(wallet: Wallet) -> None:
    alice, op_id = await _accepted_transfer(wallet)

    async def commit_and_project() -> None:
        await asyncio.sleep(0.3)
        await wallet.sql(
            "UPDATE outbox.commands SET status = 'COMMITTED', tx_id = 'tx-1', block_number = 7 WHERE id = :id",
            id=op_id,
        )
        await asyncio.sleep(0.3)
        await wallet.sql(
            "INSERT INTO ledger.projected_txs (tx_id, block_number, event_count) VALUES ('tx-1', 7, 1)"
        )

    async def wait() -> operation_pb2.Operation:
        return await wallet.wallets.WaitOperation(
            svc.WaitOperationRequest(operation_id=op_id, timeout=Duration(seconds=20)),
            metadata=wallet.token(alice),
        )

    waiter = asyncio.create_task(wait())
    await commit_and_project()
    done = await asyncio.wait_for(waiter, 20)
    assert done.done and done.state == operation_pb2.OPERATION_STATE_COMMITTED
    assert (done.fabric_tx_id, done.block_number) == ("tx-1", 7)


async def test_wait_operation_answers_not_done_when_its_timeout_passes(wallet: Wallet) -> None:
    alice, op_id = await _accepted_transfer(wallet)
    got = await wallet.wallets.WaitOperation(
        svc.WaitOperationRequest(operation_id=op_id, timeout=Duration(nanos=300_000_000)),
        metadata=wallet.token(alice),
    )
    assert not got.done and got.state == operation_pb2.OPERATION_STATE_PENDING
    # The call's own deadline bounds the wait too: the answer comes before it, not an error.
    got = await wallet.wallets.WaitOperation(
        svc.WaitOperationRequest(operation_id=op_id), metadata=wallet.token(alice), timeout=1.5
    )
    assert not got.done


async def test_a_failed_command_is_done_with_its_error(wallet: Wallet) -> None:
    alice, op_id = await _accepted_transfer(wallet)
    await wallet.sql(
        "UPDATE outbox.commands SET status = 'FAILED', error_code = 'INSUFFICIENT_FUNDS', error_message = 'short'"
        " WHERE id = :id",
        id=op_id,
    )
    got = await wallet.wallets.WaitOperation(
        svc.WaitOperationRequest(operation_id=op_id), metadata=wallet.token(alice)
    )
    assert got.done and got.state == operation_pb2.OPERATION_STATE_FAILED
    assert (got.error.reason, got.error.message) == ("INSUFFICIENT_FUNDS", "short")
