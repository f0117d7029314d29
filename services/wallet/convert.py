"""Read-model rows to `gx.wallet.v1` messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, cast

from gx.wallet.v1 import wallet_pb2

from services.common import operations
from services.wallet.readmodels import Account

_TYPE_PREFIX = "TRANSACTION_TYPE_"


# Read-model times as Timestamps: the one conversion every service answers with.
timestamp = operations.timestamp


def _set_time(message: Any, field: str, value: datetime | None) -> None:
    ts = timestamp(value)
    if ts is not None:
        getattr(message, field).CopyFrom(ts)


def wallet(account: Account) -> wallet_pb2.Wallet:
    """The Wallet resource of an account."""
    out = wallet_pb2.Wallet(
        wallet_id=account.wallet_id,
        user_id=account.user_id or "",
        balance_qirat=account.balance_qirat,
        frozen=account.frozen,
        frozen_reason=(account.frozen_reason or "") if account.frozen else "",
        country_code=account.country_code or "",
        genesis_received=account.genesis_received,
        block_number=account.block_number,
    )
    _set_time(out, "create_time", account.create_time)
    _set_time(out, "update_time", account.update_time)
    return out


def transaction_type(name: str) -> wallet_pb2.TransactionType:
    """The enum number of a read-model type name; unknown names are UNSPECIFIED."""
    try:
        return cast(wallet_pb2.TransactionType, wallet_pb2.TransactionType.Value(_TYPE_PREFIX + name))
    except ValueError:
        return wallet_pb2.TRANSACTION_TYPE_UNSPECIFIED


# Read-model type name -> enum number, for the per-row lookup of a history page (the enum
# wrapper's `Value` builds the prefixed name and raises for an unknown one).
_TYPE_BY_NAME: Final[dict[str, int]] = {
    name.removeprefix(_TYPE_PREFIX): number for name, number in wallet_pb2.TransactionType.items()
}


def type_name(value: int) -> str:
    """The read-model name of a TransactionType number (`SENT`)."""
    return str(wallet_pb2.TransactionType.Name(value)).removeprefix(_TYPE_PREFIX)


def transaction(row: Any) -> wallet_pb2.Transaction:
    """A history entry from a `ledger.transactions` row (joined with its command id)."""
    out = wallet_pb2.Transaction(
        # Unique per wallet: one wallet has at most one leg of each event.
        tx_id=f"{row.fabric_tx_id}:{row.event_index}",
        wallet_id=row.wallet_id,
        type=transaction_type(row.type),
        amount_qirat=row.amount_qirat,
        fee_qirat=row.fee_qirat if row.type == "SENT" else 0,
        counterparty=row.counterparty or "",
        remark=row.remark or "",
        block_number=row.block_number,
        fabric_tx_id=row.fabric_tx_id,
        operation=f"operations/{row.command_id}" if row.command_id else "",
    )
    _set_time(out, "time", row.time)
    return out


def add_transactions(into: Any, rows: Iterable[Any]) -> None:
    """Append history entries to a repeated `Transaction` field, built in place.

    The same messages as `transaction` (tests hold that), for a page of rows: each is added to the
    response where it lives, not built alone and copied in by the response's constructor, and the
    type and time are set without a conversion call each.
    """
    add = into.add
    unspecified = wallet_pb2.TRANSACTION_TYPE_UNSPECIFIED
    types = _TYPE_BY_NAME
    for row in rows:
        kind = row.type
        add(
            tx_id=f"{row.fabric_tx_id}:{row.event_index}",
            wallet_id=row.wallet_id,
            type=types.get(kind, unspecified),
            amount_qirat=row.amount_qirat,
            fee_qirat=row.fee_qirat if kind == "SENT" else 0,
            counterparty=row.counterparty or "",
            remark=row.remark or "",
            block_number=row.block_number,
            fabric_tx_id=row.fabric_tx_id,
            operation=f"operations/{row.command_id}" if row.command_id else "",
            time=timestamp(row.time),
        )


def country(row: Any) -> wallet_pb2.Country:
    """A Country from a `ledger.countries` row."""
    return wallet_pb2.Country(
        country_code=row.country_code,
        name=row.name,
        population_share_bps=row.share_bps,
        genesis_user_count=row.genesis_user_count,
        genesis_phase=row.genesis_phase,
        treasury_state=wallet_pb2.TREASURY_STATE_ACTIVE
        if row.treasury_active
        else wallet_pb2.TREASURY_STATE_LOCKED,
    )


def treasury(row: Any) -> wallet_pb2.Treasury:
    """A Treasury from a country row joined with `ledger.treasuries`."""
    out = wallet_pb2.Treasury(
        country_code=row.country_code,
        account_id=row.account_id,
        balance_qirat=row.balance_qirat,
        state=wallet_pb2.TreasuryState.Value(f"TREASURY_STATE_{row.state}"),
    )
    _set_time(out, "activate_time", row.activate_time)
    return out
