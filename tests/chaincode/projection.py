"""What the ledger holds per account, and what a projector following the events holds, computed
here independently of the chaincode's own code.

`ledger_view` reads a world state: an account's balance is its record plus its pending credits (the
shards of system pools and treasuries, `accr~<account>~<shard>`, hold bare integers; a user's or an
organisation's credit key `accr~<account>~<time>~<tx id>` the proto JSON of gx.ledger.v1.AccruedCredit), and its velocity timer is the record's with the
pending credits replayed in key order (= credit time order) under the rule each credit carries.
`project` applies one transaction's LedgerEvents the way the read models do: balances "after" are
set, credits (AccruedCredit, FeeCollected) are added with the timer rule. Equal results after every
transaction mean a projector that follows the events ends equal to the ledger.
"""

from __future__ import annotations

import json

from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message
from gx.ledger.v1 import events_pb2 as ev

# account id -> (balance in Qirat, velocity timer as proto JSON or None)
View = dict[str, tuple[int, str | None]]


def _credit_time(key: str) -> str:
    seconds, nanos = key.split("~")[2].split(".")
    return timestamp_pb2.Timestamp(seconds=int(seconds), nanos=int(nanos)).ToJsonString()


def _after_credit(
    balance: int, timer: str | None, credit: ev.AccruedCredit, time: str
) -> tuple[int, str | None]:
    balance += credit.amount_qirat
    if credit.velocity_timer:
        timer = (timer or time) if balance > credit.velocity_tax_threshold_qirat else None
    return balance, timer


def ledger_view(world: dict[str, bytes]) -> View:
    """Every account's balance and velocity timer as the ledger defines them (credits included)."""
    view: View = {}
    for key, value in world.items():
        if key.startswith("acct~"):
            stored = json.loads(value)
            view[key[len("acct~") :]] = (
                int(stored.get("balanceQirat", "0")),
                stored.get("velocityTimerStartTime"),
            )
    # Keys sort by time within an account; sorting all of them keeps each account's order.
    for key in sorted((k for k in world if k.startswith("accr~")), key=str.encode):
        account_id, value = key.split("~")[1], world[key]
        balance, timer = view.get(account_id, (0, None))
        if not value.startswith(b"{"):
            view[account_id] = (balance + int(value), timer)  # a pool's or treasury's shard
            continue
        credit = json_format.Parse(value, ev.AccruedCredit())
        assert credit.amount_qirat > 0, key
        view[account_id] = _after_credit(balance, timer, credit, _credit_time(key))
    return view


def _timer(message: Message, field: str) -> str | None:
    return getattr(message, field).ToJsonString() if message.HasField(field) else None


def project(view: View, envelope: ev.LedgerEvents) -> View:
    """*view* after the projector applies *envelope* (a new dict; *view* is left as it was)."""
    out = dict(view)
    time = envelope.time.ToJsonString()

    def put(account_id: str, balance: int, timer: str | None = None) -> None:
        out[account_id] = (balance, timer)

    def party(account_id: str, message: Message, credit: str, balance: str, timer: str = "") -> None:
        # A party is either credited (add) or reported with its balance (and timer) afterwards.
        if message.HasField(credit):
            current = out.get(account_id, (0, None))
            out[account_id] = _after_credit(*current, getattr(message, credit), time)
        else:
            put(account_id, getattr(message, balance), _timer(message, timer) if timer else None)

    for event in envelope.events:
        kind = event.WhichOneof("event")
        e = getattr(event, kind)
        if kind == "system_bootstrapped":
            for pool in e.pools:
                put(pool.account_id, pool.balance_qirat)
        elif kind == "genesis_distributed":
            party(e.user_id, e, "user_credit", "user_balance_qirat", "user_velocity_timer_start_time")
            party(e.treasury_account_id, e, "treasury_credit", "treasury_balance_qirat")
            put("SYSTEM_USER_GENESIS_POOL", e.user_pool_balance_qirat)
            put("SYSTEM_GOVT_GENESIS_POOL", e.govt_pool_balance_qirat)
        elif kind == "transfer_completed":
            put(e.from_account_id, e.from_balance_qirat, _timer(e, "from_velocity_timer_start_time"))
            party(e.to_account_id, e, "to_credit", "to_balance_qirat", "to_velocity_timer_start_time")
        elif kind == "fee_collected":
            balance, timer = out.get(e.collector_account_id, (0, None))
            out[e.collector_account_id] = (balance + e.fee_qirat, timer)
        elif kind == "loan_approved":
            party(
                e.borrower_id,
                e,
                "borrower_credit",
                "borrower_balance_qirat",
                "borrower_velocity_timer_start_time",
            )
            put("SYSTEM_LOAN_POOL", e.pool_balance_qirat)
        elif kind == "loan_repaid":
            put(e.borrower_id, e.borrower_balance_qirat, _timer(e, "borrower_velocity_timer_start_time"))
            party("SYSTEM_LOAN_POOL", e, "pool_credit", "pool_balance_qirat")
        elif kind == "velocity_tax_applied":
            put(e.account_id, e.balance_qirat, _timer(e, "velocity_timer_start_time"))
            party(e.treasury_account_id, e, "treasury_credit", "treasury_balance_qirat")
            party("SYSTEM_CHARITABLE_POOL", e, "charity_credit", "charity_balance_qirat")
        elif kind in ("wallet_frozen", "wallet_unfrozen"):
            out[e.account_id] = (out.get(e.account_id, (0, None))[0], _timer(e, "velocity_timer_start_time"))
        elif kind == "organization_activated":
            put(e.account.account_id, e.account.balance_qirat)
        elif kind == "user_created":
            out.setdefault(e.user_id, (0, None))
        elif kind == "country_initialized":
            out.setdefault(e.treasury_account_id, (0, None))
    return out
