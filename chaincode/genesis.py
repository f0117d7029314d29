"""Phased genesis: the one-time payment to a new user and their country's treasury."""

from __future__ import annotations

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import resources_pb2 as res

from chaincode import ledger, rules
from chaincode.tx import Tx

AGE_OUT_OF_WINDOW = "AGE_OUT_OF_WINDOW"
PHASES_EXHAUSTED = "PHASES_EXHAUSTED"
SYSTEM_PAUSED = "SYSTEM_PAUSED"


def _advance(country: res.Country) -> int | None:
    """Move *country* past full phases; return its current phase, or None once all are used."""
    while country.genesis_phase <= len(rules.PHASES):
        if country.phase_users < rules.phase_slots(country.genesis_phase, country.share_bps):
            return country.genesis_phase
        country.genesis_phase += 1
        country.phase_users = 0
    return None


async def distribute(tx: Tx, user: res.User) -> cmd.GenesisOutcome:
    """Decide genesis for *user* (who has none yet) and pay it when eligible.

    A paused system defers the decision (DistributeGenesis retries it); an age outside the
    window or exhausted phases decide it for good. The caller stores *user*.
    """
    country = await ledger.require_country(tx, user.country_code)
    outcome = cmd.GenesisOutcome(treasury_account_id=country.treasury_account_id)
    if await ledger.is_paused(tx):
        outcome.skip_reason = SYSTEM_PAUSED
        tx.emit(genesis_skipped=ev.GenesisSkipped(user_id=user.user_id, reason=SYSTEM_PAUSED))
        return outcome
    age = rules.age_on(rules.parse_date(user.date_of_birth), rules.tx_date(tx.time.seconds))
    low = await ledger.param(tx, "genesis_min_age")
    high = await ledger.param(tx, "genesis_max_age")
    phase = _advance(country) if low <= age <= high else None
    if phase is None:
        outcome.skip_reason = AGE_OUT_OF_WINDOW if not low <= age <= high else PHASES_EXHAUSTED
        user.genesis_done = True
        ledger.save_country(tx, country)
        tx.emit(genesis_skipped=ev.GenesisSkipped(user_id=user.user_id, reason=outcome.skip_reason))
        return outcome
    _, user_gx, treasury_gx = rules.PHASES[phase - 1]
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
