"""Credits go to keys of their own: they never conflict with each other, a debit folds them, and the
balance and velocity timer they imply are the same on the ledger and in what the events say.

"Conflict" is Fabric's validation rule, checked on the fake peer's read and write sets: a transaction
fails if it read a key (or a range holding a key) that an earlier transaction of its block wrote.
"""

from __future__ import annotations

from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry

import ledger_rules as rules
from tests.chaincode.conftest import new_user, rid, transfer
from tests.chaincode.fake_ledger import FakeLedger
from tests.chaincode.projection import ledger_view, project

GX = rules.QIRAT_PER_GX


def _credit_keys(gx: FakeLedger, account_id: str) -> list[str]:
    return [k for k in gx.world if k.startswith(f"accr~{account_id}~")]


async def _balance(gx: FakeLedger, account_id: str) -> qry.GetBalanceResult:
    out = await gx.invoke("GetBalance", qry.GetBalanceRequest(account_id=account_id))
    return out.result(qry.GetBalanceResult)


def _pay(src: str, dst: str, amount: int) -> cmd.TransferTokensRequest:
    return cmd.TransferTokensRequest(
        from_account_id=src, to_account_id=dst, amount_qirat=amount, request_id=rid()
    )


async def test_payments_to_one_merchant_in_one_block_do_not_conflict(gx: FakeLedger) -> None:
    merchant = await new_user(gx)
    payers = [await new_user(gx) for _ in range(5)]
    # Every payment is simulated against the same committed state, as the transactions of one block are.
    # 2 GX: local transfers under 3 GX pay no fee, so the operations fund's shards stay out of it.
    block = [
        await gx.invoke("TransferTokens", _pay(p, merchant, 2 * GX), "gx_partner_api", commit=False)
        for p in payers
    ]
    assert all(out.ok for out in block)
    for n, later in enumerate(block):
        assert f"acct~{merchant}" not in later.writes  # the record is never written by a credit
        for earlier in block[:n]:
            assert not later.conflicts_with(earlier)
    for out in block:
        gx.commit(out)
    assert gx.balance(merchant) == 500 * GX + 5 * 2 * GX
    assert len(_credit_keys(gx, merchant)) == 5
    assert (await _balance(gx, merchant)).account.balance_qirat == 510 * GX


async def test_a_payout_racing_a_credit_conflicts_and_folds_the_credits_once_rebuilt(gx: FakeLedger) -> None:
    merchant, payer, supplier = await new_user(gx), await new_user(gx), await new_user(gx)
    assert (await transfer(gx, payer, merchant, 2 * GX)).ok
    credit = await gx.invoke("TransferTokens", _pay(payer, merchant, 2 * GX), "gx_partner_api", commit=False)
    payout = await gx.invoke("TransferTokens", _pay(merchant, supplier, GX), "gx_partner_api", commit=False)
    assert credit.ok and payout.ok
    # The payout read the merchant's credit range; a credit ahead of it in the block adds a key to it.
    assert payout.conflicts_with(credit)
    gx.commit(credit)
    assert len(_credit_keys(gx, merchant)) == 2
    # Rebuilt against the new state (the outbox's path), it commits and compacts the credits.
    rebuilt = await transfer(gx, merchant, supplier, GX)
    assert rebuilt.ok
    assert _credit_keys(gx, merchant) == []
    assert gx.balance(merchant) == 503 * GX
    event = rebuilt.ledger_events().events[0].transfer_completed
    assert event.from_balance_qirat == 503 * GX  # the sender's balance after includes its folded credits


async def test_a_tax_check_compacts_a_receiving_account_without_changing_what_it_holds(
    gx: FakeLedger,
) -> None:
    merchant, payer = await new_user(gx), await new_user(gx)
    for _ in range(3):
        assert (await transfer(gx, payer, merchant, 2 * GX)).ok
    before = ledger_view(gx.world)
    out = await gx.invoke(
        "ApplyVelocityTax", cmd.ApplyVelocityTaxRequest(account_id=merchant, request_id=rid()), "gx_admin"
    )
    assert out.result(cmd.ApplyVelocityTaxResult).skip_reason == rules.TAX_NOT_DUE
    assert out.ledger_events().events == []  # nothing moved: no domain event
    assert _credit_keys(gx, merchant) == []  # but the credits are folded into the record
    assert ledger_view(gx.world) == before


async def test_credits_start_the_velocity_timer_at_the_credit_that_crosses_the_threshold(
    gx: FakeLedger,
) -> None:
    spender, friend, merchant = await new_user(gx), await new_user(gx), await new_user(gx)
    assert (await transfer(gx, merchant, friend, 450 * GX)).ok  # 49.55 GX left (10 bps fee): no timer
    assert not (await _balance(gx, merchant)).account.HasField("velocity_timer_start_time")
    view = ledger_view(gx.world)
    gx.advance(days=1)
    first = await transfer(gx, spender, merchant, 40 * GX)  # 89.55 GX: at or below 100 GX
    gx.advance(days=1)
    second = await transfer(gx, spender, merchant, 20 * GX)  # 109.55 GX: above, the timer starts here
    gx.advance(days=1)
    third = await transfer(gx, spender, merchant, 20 * GX)  # still above: the timer keeps running
    for out in (first, second, third):
        assert out.ok
        view = project(view, out.ledger_events())
    chain = (await _balance(gx, merchant)).account
    crossed = second.ledger_events().time
    assert chain.balance_qirat == 129_550_000 and chain.velocity_timer_start_time == crossed
    # What the chain answers is what a projector following the events holds.
    assert view[merchant] == (chain.balance_qirat, json_format.MessageToDict(chain)["velocityTimerStartTime"])
    # A debit folds the credits and keeps the timer from the crossing credit.
    assert (await transfer(gx, merchant, friend, GX)).ok
    assert _credit_keys(gx, merchant) == []
    assert (await _balance(gx, merchant)).account.velocity_timer_start_time == crossed


async def test_a_treasury_is_credited_on_bounded_shards_that_its_debit_folds(gx: FakeLedger) -> None:
    users = [await new_user(gx) for _ in range(4)]  # each genesis credits treasury_LK 50 GX
    shards = _credit_keys(gx, "treasury_LK")
    # A pool's or treasury's credits go to one of ACCRUAL_SHARDS keys, so its balance is a bounded read.
    assert shards and all(len(k.rsplit("~", 1)[1]) == 4 and k.rsplit("~", 1)[1].isdigit() for k in shards)
    assert gx.balance("treasury_LK") == 4 * 50 * GX
    activate = cmd.ActivateTreasuryRequest(country_code="LK", request_id=rid())
    assert (await gx.invoke("ActivateTreasury", activate, "gx_admin")).ok
    spent = await gx.invoke("TransferTokens", _pay("treasury_LK", users[0], 30 * GX), "gx_admin")
    assert spent.ok, spent.message
    assert _credit_keys(gx, "treasury_LK") == []
    assert spent.ledger_events().events[0].transfer_completed.from_balance_qirat == 170 * GX
