"""Transfers: tiered fees, no overdraft, freezing, request-id repeats, the one event, the write cache."""

from __future__ import annotations

import json

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res
from gx.type.v1 import command_pb2

import ledger_rules as rules
from chaincode.tx import Tx
from tests.chaincode.conftest import new_user, rid, transfer
from tests.chaincode.fake_ledger import FakeLedger, FakeStub

GX = rules.QIRAT_PER_GX
FUND = rules.OPERATIONS_FUND


@pytest.mark.parametrize(
    ("amount", "to_country", "fee_bps", "category"),
    [
        (3 * GX - 1, "LK", 0, res.TRANSFER_CATEGORY_P2P_LOCAL),
        (3 * GX, "LK", 5, res.TRANSFER_CATEGORY_P2P_LOCAL),
        (100 * GX, "LK", 5, res.TRANSFER_CATEGORY_P2P_LOCAL),
        (100 * GX + 1, "LK", 10, res.TRANSFER_CATEGORY_P2P_LOCAL),
        (100 * GX, "IN", 15, res.TRANSFER_CATEGORY_P2P_CROSS_BORDER),
        (200 * GX, "IN", 25, res.TRANSFER_CATEGORY_P2P_CROSS_BORDER),
    ],
)
async def test_p2p_fee_tiers_are_paid_by_the_sender_to_the_operations_fund(
    gx: FakeLedger, amount: int, to_country: str, fee_bps: int, category: int
) -> None:
    alice, bob = await new_user(gx, "LK"), await new_user(gx, to_country)
    before = {a: gx.balance(a) for a in (alice, bob, FUND)}
    out = await transfer(gx, alice, bob, amount)
    result = out.result(cmd.TransferTokensResult)
    fee = amount * fee_bps // 10_000
    assert (result.fee_bps, result.fee_qirat, result.category) == (fee_bps, fee, category)
    # The sender is debited twice (amount, then fee): both must land despite no read-your-own-writes.
    assert gx.balance(alice) == before[alice] - amount - fee == result.from_balance_qirat
    # The receiver is credited through an accrual key: its balance afterwards is not read, so unknown.
    assert gx.balance(bob) == before[bob] + amount and result.to_balance_qirat == 0
    assert out.ledger_events().events[0].transfer_completed.to_credit.amount_qirat == amount
    assert gx.balance(FUND) == before[FUND] + fee
    assert out.domain_events() == (["transfer_completed", "fee_collected"] if fee else ["transfer_completed"])


async def test_fee_cap_parameter_lowers_every_tier(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx, "LK"), await new_user(gx, "IN")
    out = await gx.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter="transfer_fee_cap_bps", value=3, request_id=rid()),
    )
    assert out.ok
    result = (await transfer(gx, alice, bob, 200 * GX)).result(cmd.TransferTokensResult)
    assert (result.fee_bps, result.fee_qirat) == (3, 200 * GX * 3 // 10_000)


async def test_transfers_to_system_pools_are_exempt(gx: FakeLedger) -> None:
    alice = await new_user(gx)
    result = (await transfer(gx, alice, rules.CHARITABLE_POOL, 200 * GX)).result(cmd.TransferTokensResult)
    assert (result.fee_qirat, result.category) == (0, res.TRANSFER_CATEGORY_EXEMPT)
    result = (await transfer(gx, alice, FUND, 10 * GX)).result(cmd.TransferTokensResult)
    assert result.fee_qirat == 0


async def test_no_overdraft_amount_plus_fee_must_be_covered(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    assert gx.balance(alice) == 500 * GX  # phase-1 genesis
    before = dict(gx.world)
    out = await transfer(gx, alice, bob, 500 * GX)  # + 10 bps fee does not fit
    assert out.status == 400 and out.message.startswith("INSUFFICIENT_FUNDS")
    assert gx.world == before
    assert (await transfer(gx, alice, bob, 499 * GX)).ok
    assert gx.balance(alice) == 500 * GX - 499 * GX - 499 * GX * 10 // 10_000
    assert (await transfer(gx, alice, bob, 2 * GX)).message.startswith("INSUFFICIENT_FUNDS")


@pytest.mark.parametrize("amount", [0, -5])
async def test_non_positive_amounts_are_refused(gx: FakeLedger, amount: int) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    out = await transfer(gx, alice, bob, amount)
    assert out.status == 400 and out.message.startswith("INVALID_AMOUNT")


async def test_self_transfer_and_unknown_accounts_are_refused(gx: FakeLedger) -> None:
    alice = await new_user(gx)
    assert (await transfer(gx, alice, alice, GX)).message.startswith("SELF_TRANSFER")
    # The wallet's pre-checks answer the same reasons (rules.check_transfer decides both).
    missing = await transfer(gx, alice, "nobody", GX)
    assert missing.status == 400 and missing.message.startswith("RECIPIENT_NOT_FOUND")
    pool = await transfer(gx, rules.LOAN_POOL, alice, GX)
    assert pool.status == 400  # pools move value only through their own rules


async def test_frozen_wallet_cannot_send_but_can_receive(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    out = await gx.invoke(
        "FreezeWallet",
        cmd.FreezeWalletRequest(account_id=alice, reason="court order", request_id=rid()),
        role="gx_admin",
    )
    assert out.ok and out.domain_events() == ["wallet_frozen"]
    assert (await transfer(gx, alice, bob, GX)).message.startswith("WALLET_FROZEN")
    assert (await transfer(gx, bob, alice, GX)).ok
    out = await gx.invoke(
        "UnfreezeWallet", cmd.UnfreezeWalletRequest(account_id=alice, request_id=rid()), role="gx_admin"
    )
    assert out.ok and out.domain_events() == ["wallet_unfrozen"]
    assert (await transfer(gx, alice, bob, GX)).ok


async def test_repeated_request_id_returns_first_result_without_second_effect(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    request_id = rid()
    first = await transfer(gx, alice, bob, 10 * GX, request_id)
    assert first.ok
    state = dict(gx.world)
    again = await transfer(gx, alice, bob, 10 * GX, request_id)
    assert again.ok and again.payload == first.payload
    assert gx.world == state
    envelope = again.ledger_events()
    assert envelope.replayed and not envelope.events and envelope.request_id == request_id
    # It names the transaction that applied the request (recorded with its first result), not itself.
    applied_by = json.loads(gx.world[f"request~{request_id}"])["txId"]
    assert envelope.replay_of_tx_id == applied_by and first.ledger_events().replay_of_tx_id == ""
    reused = await transfer(gx, alice, bob, 11 * GX, request_id)
    assert reused.status == 400 and reused.message.startswith("REQUEST_ID_REUSED")
    other = await gx.invoke(
        "FreezeWallet",
        cmd.FreezeWalletRequest(account_id=alice, reason="x", request_id=request_id),
        role="gx_admin",
    )
    assert other.message.startswith("REQUEST_ID_REUSED")
    recorded = (await gx.invoke("GetRequest", qry.GetRequestRequest(request_id=request_id))).result(
        qry.GetRequestResult
    )
    assert (recorded.function, recorded.result_json) == ("TransferTokens", first.payload)


async def test_one_ledger_events_event_carries_every_domain_event_in_order(gx: FakeLedger) -> None:
    user_id = "6f1f7d1e-8c1a-4c59-9d55-1f6f5b0c2a11"
    request = cmd.CreateUserRequest(
        user_id=user_id, country_code="LK", date_of_birth="1990-01-01", request_id=rid()
    )
    out = await gx.invoke("CreateUser", request, role="gx_admin")
    envelope = out.ledger_events()
    assert envelope.request_id == request.request_id
    assert envelope.function == "CreateUser"
    assert envelope.command_type == command_pb2.COMMAND_TYPE_CREATE_USER
    assert envelope.time.ToDatetime().year == 2026
    assert out.domain_events() == ["user_created", "genesis_distributed"]
    paid = envelope.events[1].genesis_distributed
    assert (paid.user_id, paid.phase, paid.user_qirat, paid.treasury_qirat) == (user_id, 1, 500 * GX, 50 * GX)
    # The new wallet is stored in this transaction, so genesis goes into its record; the treasury
    # is credited through an accrual key (its balance is not read).
    assert paid.user_balance_qirat == gx.balance(user_id) and not paid.HasField("user_credit")
    assert paid.treasury_credit.amount_qirat == 50 * GX == gx.balance("treasury_LK")


async def test_a_rejected_transaction_writes_nothing_and_emits_nothing(gx: FakeLedger) -> None:
    alice = await new_user(gx)
    out = await transfer(gx, alice, "nobody", GX)
    assert not out.ok and out.writes == {} and out.events == []


@pytest.mark.parametrize("arg", ["{not json", '{"fromAccountId": "a", "colour": "red"}', "[]"])
async def test_malformed_arguments_are_invalid(gx: FakeLedger, arg: str) -> None:
    out = await gx.invoke("TransferTokens", arg, role="gx_partner_api")
    assert out.status == 400 and out.message.startswith("INVALID_ARGUMENT")


async def test_a_missing_argument_is_invalid_not_a_fault(gx: FakeLedger) -> None:

    stub = FakeStub(gx.world, ["TransferTokens"], "tx-noargs", Timestamp(seconds=1), b"")
    response = await gx.chaincode.invoke(stub)
    assert response.status == 400 and response.message.startswith(
        "INVALID_ARGUMENT: incorrect number of params"
    )


async def test_namespaced_and_bare_function_names_both_route(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    out = await gx.invoke(
        "token:TransferTokens",
        json.dumps({"fromAccountId": alice, "toAccountId": bob, "amountQirat": "1000", "requestId": rid()}),
        role="gx_partner_api",
    )
    assert out.ok
    assert (await gx.invoke("NoSuchFunction", "{}")).status == 500


async def test_list_accounts_pages_through_every_account(gx: FakeLedger) -> None:
    users = {await new_user(gx) for _ in range(3)}
    seen: list[str] = []
    token = ""
    while True:
        page = (
            await gx.invoke("ListAccounts", qry.ListAccountsRequest(page_size=4, page_token=token))
        ).result(qry.ListAccountsResult)
        seen += [a.account_id for a in page.accounts]
        token = page.next_page_token
        if not token:
            break
    assert users <= set(seen)
    assert len(seen) == len(set(seen)) == 6 + 3 + 3  # pools, treasuries, users
    assert sum(a for a in [gx.balance(x) for x in seen]) == rules.TOTAL_SUPPLY


async def test_tx_state_reads_its_own_writes_where_the_peer_does_not() -> None:
    world = {"k": b"old"}
    stub = FakeStub(world, ["F", "{}"], "tx", Timestamp(seconds=1), b"")
    tx = Tx(stub)
    assert await tx.get("k") == b"old"
    tx.put("k", "new")
    tx.put("j", "x")
    tx.delete("gone")
    assert await stub.get_state("k") == b"old"  # the peer: no read-your-own-writes
    assert await tx.get("k") == b"new"  # the cache: the transaction sees its own write
    assert [k for k, _ in await tx.range("a", "z")] == ["j", "k"]
    await tx.flush()
    assert stub.writes == {"k": b"new", "j": b"x", "gone": None}
