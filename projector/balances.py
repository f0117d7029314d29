"""A batch's balance changes folded into one row per wallet, written by two set-based statements.

The handlers change balances three ways (`handlers._set_balance`, `_add_credit`, a collected fee), one
statement each: two or three per transfer, most of a batch's statements. A batch keeps them
(`PipelineWriter.balance`) until a statement that touches `ledger.wallets` otherwise, or a query,
comes, and then writes each wallet's net effect once, with the same result as the statements in
order (tests/workers/test_projector_batch.py compares every row with one-by-one projection):

- a wallet whose run has a set: the balance and timer follow from the LAST set on, computed here
  by the credits' own rule (above the threshold a timed credit starts a timer unless one runs; at
  or below it none runs; an untimed credit or a fee leaves the timer);
- a wallet with only fees and untimed credits: their sum is added to what the row holds;
- a wallet with timed credits and no set (their timers depend on the balance the row holds), or
  with one change only: its statements as they are, in order.

A row the run inserts gets its first change's account type and time, and every row its last
change's block, transaction and time, as the statements in order would leave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SET = "set"
CREDIT = "credit"
FEE = "fee"


@dataclass(frozen=True)
class Change:
    """One balance change and the statement that applies it alone.

    Attributes:
        kind: SET (`:bal`, `:timer`), CREDIT (`:amount`, `:timed`, `:threshold`) or FEE (`:fee`).
        sql: the statement (SQLAlchemy `:name` parameters).
        params: its parameters, with `:w` (the wallet), `:atype`, `:block`, `:tx`, `:time`.
    """

    kind: str
    sql: str
    params: dict[str, Any]


# Each wallet's balance and timer as of the last change, the other columns of an upsert.
SET_MANY = (
    "INSERT INTO ledger.wallets (wallet_id, account_type, balance_qirat, velocity_timer_start_time, block_number,"
    " fabric_tx_id, create_time, update_time)"
    " SELECT t.r->>'w', t.r->>'atype', CAST(t.r->>'bal' AS bigint), CAST(t.r->>'timer' AS timestamptz),"
    "  CAST(t.r->>'block' AS bigint), t.r->>'tx', CAST(t.r->>'created' AS timestamptz), CAST(t.r->>'time' AS timestamptz)"
    " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS t(r)"
    " ON CONFLICT (wallet_id) DO UPDATE SET balance_qirat = EXCLUDED.balance_qirat,"
    " velocity_timer_start_time = EXCLUDED.velocity_timer_start_time,"
    " block_number = EXCLUDED.block_number, fabric_tx_id = EXCLUDED.fabric_tx_id, update_time = EXCLUDED.update_time"
)
# Each wallet's sum of fees and untimed credits, added.
ADD_MANY = (
    "INSERT INTO ledger.wallets (wallet_id, account_type, balance_qirat, block_number, fabric_tx_id, create_time,"
    " update_time)"
    " SELECT t.r->>'w', t.r->>'atype', CAST(t.r->>'amount' AS bigint), CAST(t.r->>'block' AS bigint), t.r->>'tx',"
    "  CAST(t.r->>'created' AS timestamptz), CAST(t.r->>'time' AS timestamptz)"
    " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS t(r)"
    " ON CONFLICT (wallet_id) DO UPDATE SET balance_qirat = ledger.wallets.balance_qirat + EXCLUDED.balance_qirat,"
    " block_number = EXCLUDED.block_number, fabric_tx_id = EXCLUDED.fabric_tx_id, update_time = EXCLUDED.update_time"
)


@dataclass(frozen=True)
class Folded:
    """What to send for a run of changes: rows for `SET_MANY` and `ADD_MANY`, then single changes."""

    set_rows: list[dict[str, Any]]
    add_rows: list[dict[str, Any]]
    singles: list[Change]


def fold(changes: Sequence[Change]) -> Folded:
    """Fold a run of changes (in statement order) into one row per wallet where that is exact."""
    by_wallet: dict[str, list[Change]] = {}
    for change in changes:
        by_wallet.setdefault(change.params["w"], []).append(change)
    folded = Folded([], [], [])
    for wallet_id, run in by_wallet.items():
        if len(run) == 1:
            folded.singles.extend(run)
            continue
        first, last = run[0].params, run[-1].params
        row = {
            "w": wallet_id,
            "atype": first["atype"],
            "block": last["block"],
            "tx": last["tx"],
            "created": first["time"],
            "time": last["time"],
        }
        sets = [i for i, change in enumerate(run) if change.kind == SET]
        if sets:
            start = run[sets[-1]].params
            balance, timer = _after(int(start["bal"]), start["timer"], run[sets[-1] + 1 :])
            folded.set_rows.append({**row, "bal": balance, "timer": timer})
        elif all(change.kind == FEE or not change.params["timed"] for change in run):
            folded.add_rows.append({**row, "amount": sum(_amount(change) for change in run)})
        else:
            folded.singles.extend(run)
    return folded


def _amount(change: Change) -> int:
    return int(change.params["fee"] if change.kind == FEE else change.params["amount"])


def _after(balance: int, timer: datetime | None, changes: Sequence[Change]) -> tuple[int, datetime | None]:
    """Balance and timer after credits and fees (`handlers._add_credit`'s rule, as its SQL applies it)."""
    for change in changes:
        balance += _amount(change)
        if change.kind == CREDIT and change.params["timed"]:
            timer = (timer or change.params["time"]) if balance > int(change.params["threshold"]) else None
    return balance, timer
