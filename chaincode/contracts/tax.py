"""Tax contract: the velocity (hoarding) tax on balances held above a threshold for too long."""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import TransactionContext
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev

import ledger_rules as rules
from chaincode import ledger
from chaincode.contracts.base import GxContract, check_id, need, run_command
from chaincode.tx import Tx


class TaxContract(GxContract):
    """Applied per account by an admin (a scheduler in the backend decides when to ask)."""

    Name = "tax"

    async def ApplyVelocityTax(self, ctx: TransactionContext, request: str) -> str:
        """Applies the velocity (hoarding) tax to a user account whose balance stayed above..."""
        return await run_command(ctx, cmd.ApplyVelocityTaxRequest, request, _apply)


async def _apply(tx: Tx, request: cmd.ApplyVelocityTaxRequest) -> cmd.ApplyVelocityTaxResult:
    check_id(request.account_id, "account_id")
    acct = await ledger.require_account(tx, request.account_id)
    need(rules.pays_velocity_tax(acct.type), "INVALID_ARGUMENT", "only user accounts pay the velocity tax")
    await ledger.require_not_paused(tx)
    # Assess the whole balance: fold the pending credits (their timer rule included). Even when
    # nothing is due the fold commits, compacting the credits of an account that only receives.
    await ledger.fold(tx, acct)
    threshold = await ledger.param(tx, "velocity_tax_threshold_qirat")
    # The rule itself is pure (ledger_rules.velocity_tax), so the wallet's preview applies exactly it.
    assessed = rules.velocity_tax(
        account_type=acct.type,
        balance_qirat=acct.balance_qirat,
        holding_start_seconds=(
            acct.velocity_timer_start_time.seconds if acct.HasField("velocity_timer_start_time") else None
        ),
        now_seconds=tx.time.seconds,
        threshold_qirat=threshold,
        period_days=await ledger.param(tx, "velocity_tax_period_days"),
        rate_bps=await ledger.param(tx, "velocity_tax_rate_bps"),
    )
    if not assessed.due:
        return cmd.ApplyVelocityTaxResult(skip_reason=assessed.skip_reason, balance_qirat=acct.balance_qirat)
    tax, rate = assessed.tax_qirat, assessed.rate_bps
    treasury_share, charity_share = assessed.treasury_qirat, assessed.charity_qirat
    country = await ledger.require_country(tx, acct.country_code)
    treasury = await ledger.require_account(tx, country.treasury_account_id)
    charity = await ledger.require_account(tx, rules.CHARITABLE_POOL)
    treasury_credit = charity_credit = None
    if treasury_share:
        treasury_credit = await ledger.move(tx, acct, treasury, treasury_share)
    if charity_share:
        charity_credit = await ledger.move(tx, acct, charity, charity_share)
    # The period starts again: the next tax is due a full period after this one.
    acct.velocity_timer_start_time.CopyFrom(tx.time)
    if acct.balance_qirat <= threshold:
        acct.ClearField("velocity_timer_start_time")
    await ledger.save_account(tx, acct)
    applied = ev.VelocityTaxApplied(
        account_id=acct.account_id,
        tax_qirat=tax,
        rate_bps=rate,
        balance_qirat=acct.balance_qirat,
        treasury_account_id=treasury.account_id,
        treasury_qirat=treasury_share,
        charity_qirat=charity_share,
        velocity_timer_start_time=ledger.holding_start(acct),
    )
    # Shares go to the treasury and the pool as credits: their balances afterwards are not read. A
    # share that rounds to 0 moves nothing; the event then reports the untouched balance, which
    # (rarely) costs a read of that account's credits.
    if treasury_credit is not None:
        applied.treasury_credit.CopyFrom(treasury_credit)
    else:
        applied.treasury_balance_qirat = await ledger.balance_of(tx, treasury)
    if charity_credit is not None:
        applied.charity_credit.CopyFrom(charity_credit)
    else:
        applied.charity_balance_qirat = await ledger.balance_of(tx, charity)
    tx.emit(velocity_tax_applied=applied)
    return cmd.ApplyVelocityTaxResult(
        taxed=True,
        tax_qirat=tax,
        treasury_qirat=treasury_share,
        charity_qirat=charity_share,
        balance_qirat=acct.balance_qirat,
    )
