"""A history page built from rows PostgreSQL shaped (`convert.add_transactions`) equals the entries the
read-model columns describe, built one message per row the plain way."""

from __future__ import annotations

import uuid
from collections import namedtuple
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from gx.wallet.v1 import wallet_pb2
from gx.wallet.v1 import wallet_service_pb2 as svc

from services.wallet import convert

# A `ledger.transactions` row joined with its command id, as stored.
Raw = namedtuple(
    "Raw",
    "id fabric_tx_id event_index leg wallet_id type amount_qirat fee_qirat counterparty remark block_number"
    " time command_id",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _raws() -> list[Raw]:
    base = datetime(2026, 12, 6, 10, 0, 0, 123456, tzinfo=UTC)
    command = uuid.uuid4()
    kinds = [
        "SENT",
        "RECEIVED",
        "FEE",
        "GENESIS",
        "TAX",
        "LOAN_DISBURSEMENT",
        "ORG_TRANSFER",
        "SOMETHING_NEW",
    ]
    rows = [
        Raw(
            id=100 - i,
            fabric_tx_id=f"tx{i}",
            event_index=i % 3,
            leg=i % 2,
            wallet_id="w-1",
            type=kind,
            amount_qirat=(i + 1) * 10**12,
            fee_qirat=(i + 1) * 7,  # a fee on a non-SENT row is not shown
            counterparty=None if i % 2 else "someone",
            remark=None if i % 3 == 0 else f"remark {i}",
            block_number=5 + i,
            time=None if i == 3 else base - timedelta(days=400 * i),
            command_id=command if i % 2 == 0 else None,
        )
        for i, kind in enumerate(kinds)
    ]
    # An aware time in another zone, one before 1970, and the epoch itself (all-zero Timestamp).
    rows.append(
        rows[0]._replace(time=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))))
    )
    rows.append(rows[1]._replace(time=datetime(1969, 7, 20, 20, 17, 40, 5, tzinfo=UTC)))
    rows.append(rows[2]._replace(time=_EPOCH))
    return rows


def _shaped(raw: Raw) -> tuple[Any, ...]:
    """What `readmodels._ENTRY_COLUMNS` makes of a raw row (the SQL is held to this in the gRPC tests)."""
    micros = None
    if raw.time is not None:
        delta = raw.time - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return (
        raw.id,
        f"{raw.fabric_tx_id}:{raw.event_index}",
        raw.wallet_id,
        raw.type,
        raw.amount_qirat,
        raw.fee_qirat if raw.type == "SENT" else 0,
        raw.counterparty or "",
        raw.remark or "",
        raw.block_number,
        raw.fabric_tx_id,
        f"operations/{raw.command_id}" if raw.command_id else "",
        micros,
    )


def expected_entry(raw: Raw) -> wallet_pb2.Transaction:
    """The API's entry for a stored row, built the plain way (Timestamp.FromDatetime)."""
    names = {n.removeprefix("TRANSACTION_TYPE_"): v for n, v in wallet_pb2.TransactionType.items()}
    out = wallet_pb2.Transaction(
        tx_id=f"{raw.fabric_tx_id}:{raw.event_index}",
        wallet_id=raw.wallet_id,
        type=names.get(raw.type, 0),
        amount_qirat=raw.amount_qirat,
        fee_qirat=raw.fee_qirat if raw.type == "SENT" else 0,
        counterparty=raw.counterparty or "",
        remark=raw.remark or "",
        block_number=raw.block_number,
        fabric_tx_id=raw.fabric_tx_id,
        operation=f"operations/{raw.command_id}" if raw.command_id else "",
    )
    if raw.time is not None:
        stamp = Timestamp()
        stamp.FromDatetime(raw.time)
        out.time.CopyFrom(stamp)
    return out


def test_a_page_built_from_shaped_rows_equals_one_plain_message_per_row() -> None:
    raws = _raws()
    built = svc.ListTransactionsResponse(next_page_token="t")
    convert.add_transactions(built.transactions, [_shaped(r) for r in raws])
    expected = svc.ListTransactionsResponse(
        transactions=[expected_entry(r) for r in raws], next_page_token="t"
    )
    assert built == expected
    assert built.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
    # The cases differ where they should: an unknown type is UNSPECIFIED, a missing time unset, the
    # epoch itself a set (all-zero) time, a time before 1970 negative seconds with positive nanos.
    assert built.transactions[7].type == 0 and not built.transactions[3].HasField("time")
    assert built.transactions[10].HasField("time") and built.transactions[10].time.seconds == 0
    assert built.transactions[9].time.seconds < 0 and built.transactions[9].time.nanos == 5000
    assert built.transactions[0].fee_qirat == 7 and built.transactions[2].fee_qirat == 0


def test_an_empty_page_adds_nothing() -> None:
    built = svc.ListTransactionsResponse()
    convert.add_transactions(built.transactions, [])
    assert built == svc.ListTransactionsResponse()


def test_zero_and_empty_fields_are_left_unset_and_give_the_same_message() -> None:
    # add_transactions sets no field whose value is its default (fee 0, "" strings); a set default
    # and an unset one must be the same message and the same bytes, and non-defaults still show.
    quiet = Raw(7, "tx", 0, 0, "", "RECEIVED", 0, 0, None, None, 0, _EPOCH, None)
    loud = Raw(8, "ty", 2, 1, "w-2", "SENT", 5, 3, "bob", "hi", 9, None, uuid.uuid4())
    built = svc.ListTransactionsResponse()
    convert.add_transactions(built.transactions, [_shaped(quiet), _shaped(loud)])
    expected = svc.ListTransactionsResponse(transactions=[expected_entry(quiet), expected_entry(loud)])
    assert built == expected
    assert built.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
    assert built.transactions[0].HasField("time") and not built.transactions[1].HasField("time")
    assert (built.transactions[1].fee_qirat, built.transactions[1].counterparty) == (3, "bob")
    assert built.transactions[1].remark == "hi" and built.transactions[1].operation.startswith("operations/")
