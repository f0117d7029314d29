"""The one transfer routine: tiered fee, balance checks, events; used by user and multisig transfers."""

from __future__ import annotations

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import ledger
from chaincode.tx import Tx
from ledger_rules.errors import Rejection


async def _party(tx: Tx, acct: res.Account) -> rules.Party:
    org_type = res.ORGANIZATION_TYPE_UNSPECIFIED
    if acct.type == res.ACCOUNT_TYPE_ORGANIZATION:
        org = await tx.get_msg(f"org~{acct.account_id}", res.Organization)
        org_type = org.type if org is not None else res.ORGANIZATION_TYPE_BUSINESS
    return rules.Party(acct.type, acct.country_code, org_type)


async def quote(tx: Tx, source: res.Account, target: res.Account, amount: int) -> tuple[int, int, int]:
    """(category, fee bps, fee Qirat) for moving *amount* from *source* to *target*."""
    cap = await ledger.param(tx, "transfer_fee_cap_bps")
    return rules.fee_for(await _party(tx, source), await _party(tx, target), amount, cap)


async def side(tx: Tx, acct: res.Account) -> rules.TransferSide:
    """An existing ledger account as the transfer rules see it (on the ledger it is always active)."""
    return rules.TransferSide(acct.account_id, await _party(tx, acct), acct.balance_qirat, acct.frozen)


async def transfer(
    tx: Tx,
    source: res.Account,
    target: res.Account | None,
    amount: int,
    remark: str,
    multisig_tx_id: str = "",
) -> cmd.TransferTokensResult:
    """Move *amount* to *target* (None: it does not exist); *source* pays the fee on top to
    SYSTEM_OPERATIONS_FUND.

    Raises:
        Rejection: any refusal of `rules.check_transfer` (INVALID_AMOUNT, RECIPIENT_NOT_FOUND,
            SELF_TRANSFER, SYSTEM_PAUSED, WALLET_FROZEN, INSUFFICIENT_FUNDS).
    """
    paused = await ledger.is_paused(tx)
    # The sender's pending credits count towards what it can spend; the receiver's are never read.
    await ledger.fold(tx, source)
    cap = await ledger.param(tx, "transfer_fee_cap_bps")
    receiver = await side(tx, target) if target is not None else None
    # The one decision (shared with the wallet's pre-checks): rules.check_transfer.
    verdict = rules.check_transfer(await side(tx, source), receiver, amount, paused=paused, fee_cap_bps=cap)
    if verdict.refusal is not None:
        raise Rejection(verdict.refusal, verdict.detail)
    assert target is not None  # check_transfer refuses a missing recipient
    category, bps, fee = verdict.category, verdict.fee_bps, verdict.fee_qirat
    transfer_id = tx.next_id()
    to_credit = await ledger.move(tx, source, target, amount)
    if fee:
        # The same in-memory account takes both debits; any later re-read in this transaction goes
        # through the write cache, where Fabric itself would return the pre-transaction balance.
        fund = ledger.accrual_account(rules.OPERATIONS_FUND)
        await ledger.move(tx, source, fund, fee)
    completed = ev.TransferCompleted(
        transfer_id=transfer_id,
        from_account_id=source.account_id,
        to_account_id=target.account_id,
        amount_qirat=amount,
        fee_qirat=fee,
        fee_bps=bps,
        category=category,
        remark=remark,
        from_balance_qirat=source.balance_qirat,
        multisig_tx_id=multisig_tx_id,
        from_velocity_timer_start_time=ledger.holding_start(source),
    )
    if to_credit is None:
        completed.to_balance_qirat = target.balance_qirat
        timer = ledger.holding_start(target)
        if timer is not None:
            completed.to_velocity_timer_start_time.CopyFrom(timer)
    else:
        # The receiver's balance is not known here (its credits are not read): the credit is.
        completed.to_credit.CopyFrom(to_credit)
    tx.emit(transfer_completed=completed)
    if fee:
        tx.emit(
            fee_collected=ev.FeeCollected(
                transfer_id=transfer_id,
                payer_account_id=source.account_id,
                fee_qirat=fee,
                collector_account_id=rules.OPERATIONS_FUND,
            )
        )
    return cmd.TransferTokensResult(
        transfer_id=transfer_id,
        amount_qirat=amount,
        fee_qirat=fee,
        fee_bps=bps,
        category=category,
        from_balance_qirat=source.balance_qirat,
        to_balance_qirat=completed.to_balance_qirat,
    )
