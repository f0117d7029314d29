"""Phased genesis: the one-time payment to a new user and their country's treasury."""

from __future__ import annotations

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import ledger
from chaincode.tx import Tx
from ledger_rules import genesis as genesis_rules


def _advance(country: res.Country) -> int | None:
    """Move *country* past full phases; return its current phase, or None once all are used."""
    country.genesis_phase, country.phase_users = genesis_rules.advance_phase(
        country.genesis_phase, country.phase_users, country.share_bps
    )
    return country.genesis_phase if country.genesis_phase <= len(genesis_rules.PHASES) else None


async def distribute(tx: Tx, user: res.User) -> cmd.GenesisOutcome:
    """Decide genesis for *user* (who has none yet) and pay it when eligible.

    A paused system defers the decision (DistributeGenesis retries it); an age outside the
    window or exhausted phases decide it for good. The caller stores *user*.
    """
    country = await ledger.require_country(tx, user.country_code)
    outcome = cmd.GenesisOutcome(treasury_account_id=country.treasury_account_id)
    if await ledger.is_paused(tx):
        outcome.skip_reason = rules.SYSTEM_PAUSED
        tx.emit(genesis_skipped=ev.GenesisSkipped(user_id=user.user_id, reason=rules.SYSTEM_PAUSED))
        return outcome
    low = await ledger.param(tx, "genesis_min_age")
    high = await ledger.param(tx, "genesis_max_age")
    eligible = genesis_rules.age_eligible(user.date_of_birth, tx.time.seconds, low, high)
    phase = _advance(country) if eligible else None
    if phase is None:
        outcome.skip_reason = genesis_rules.PHASES_EXHAUSTED if eligible else genesis_rules.AGE_OUT_OF_WINDOW
        user.genesis_done = True
        ledger.save_country(tx, country)
        tx.emit(genesis_skipped=ev.GenesisSkipped(user_id=user.user_id, reason=outcome.skip_reason))
        return outcome
    _, user_gx, treasury_gx = genesis_rules.PHASES[phase - 1]
    user_amount = user_gx * rules.QIRAT_PER_GX
    treasury_amount = treasury_gx * rules.QIRAT_PER_GX
    user_pool = await ledger.load_for_update(tx, rules.USER_GENESIS_POOL)
    govt_pool = await ledger.load_for_update(tx, rules.GOVT_GENESIS_POOL)
    wallet = await ledger.require_account(tx, user.user_id)
    treasury = await ledger.require_account(tx, country.treasury_account_id)
    # CreateUser stores the new wallet in this transaction, so its genesis goes into the record;
    # a deferred DistributeGenesis and every treasury get an accrued credit (see ledger.credit).
    user_credit = await ledger.move(tx, user_pool, wallet, user_amount)
    treasury_credit = await ledger.move(tx, govt_pool, treasury, treasury_amount)
    country.phase_users += 1
    country.genesis_users += 1
    ledger.save_country(tx, country)
    user.genesis_done = True
    user.genesis_qirat = user_amount
    outcome.paid = True
    outcome.phase = phase
    outcome.user_qirat = user_amount
    outcome.treasury_qirat = treasury_amount
    paid = ev.GenesisDistributed(
        user_id=user.user_id,
        country_code=user.country_code,
        phase=phase,
        user_qirat=user_amount,
        treasury_account_id=treasury.account_id,
        treasury_qirat=treasury_amount,
        user_pool_balance_qirat=user_pool.balance_qirat,
        govt_pool_balance_qirat=govt_pool.balance_qirat,
    )
    if user_credit is None:
        paid.user_balance_qirat = wallet.balance_qirat
        timer = ledger.holding_start(wallet)
        if timer is not None:
            paid.user_velocity_timer_start_time.CopyFrom(timer)
    else:
        paid.user_credit.CopyFrom(user_credit)
    if treasury_credit is None:
        paid.treasury_balance_qirat = treasury.balance_qirat
    else:
        paid.treasury_credit.CopyFrom(treasury_credit)
    tx.emit(genesis_distributed=paid)
    return outcome
