"""The one transfer routine: tiered fee, balance checks, events; used by user and multisig transfers."""

from __future__ import annotations

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import resources_pb2 as res

from chaincode import ledger, rules
from chaincode.errors import Rejection
from chaincode.tx import Tx


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


async def transfer(
    tx: Tx, source: res.Account, target: res.Account, amount: int, remark: str, multisig_tx_id: str = ""
) -> cmd.TransferTokensResult:
    """Move *amount* to *target*; *source* pays the fee on top to SYSTEM_OPERATIONS_FUND.

    Raises:
        Rejection: SYSTEM_PAUSED, ACCOUNT_FROZEN, INSUFFICIENT_FUNDS or INVALID_ARGUMENT.
    """
    await ledger.require_not_paused(tx)
    if source.frozen:
        raise Rejection("ACCOUNT_FROZEN", f"account {source.account_id} is frozen and cannot send")
    if source.account_id == target.account_id:
        raise Rejection("INVALID_ARGUMENT", "sender and receiver are the same account")
    category, bps, fee = await quote(tx, source, target, amount)
    if source.balance_qirat < amount + fee:
        raise Rejection(
            "INSUFFICIENT_FUNDS",
            f"account {source.account_id} has {source.balance_qirat} Qirat, needs {amount} + fee {fee}",
        )
    transfer_id = tx.next_id()
    await ledger.move(tx, source, target, amount)
    if fee:
        # The same in-memory account takes both debits; any later re-read in this transaction goes
        # through the write cache, where Fabric itself would return the pre-transaction balance.
        fund = await ledger.require_account(tx, rules.OPERATIONS_FUND)
        await ledger.move(tx, source, fund, fee)
    to_balance = (
        await ledger.balance_of(tx, target)
        if target.account_id in ledger.ACCRUAL_ACCOUNTS
        else target.balance_qirat
    )
    tx.emit(
        transfer_completed=ev.TransferCompleted(
            transfer_id=transfer_id,
            from_account_id=source.account_id,
            to_account_id=target.account_id,
            amount_qirat=amount,
            fee_qirat=fee,
            fee_bps=bps,
            category=category,
            remark=remark,
            from_balance_qirat=source.balance_qirat,
            to_balance_qirat=to_balance,
            multisig_tx_id=multisig_tx_id,
            from_velocity_timer_start_time=ledger.holding_start(source),
            to_velocity_timer_start_time=ledger.holding_start(target),
        )
    )
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
        to_balance_qirat=to_balance,
    )
