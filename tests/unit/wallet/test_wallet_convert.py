"""A history page built in place (`convert.add_transactions`) equals one message per row (`convert.transaction`)."""

from __future__ import annotations

import uuid
from collections import namedtuple
from datetime import UTC, datetime, timedelta, timezone

from gx.wallet.v1 import wallet_service_pb2 as svc

from services.wallet import convert

Row = namedtuple(
    "Row",
    "id fabric_tx_id event_index leg wallet_id type amount_qirat fee_qirat counterparty remark block_number"
    " time command_id",
)


def _rows() -> list[Row]:
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
    rows = []
    for i, kind in enumerate(kinds):
        rows.append(
            Row(
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
        )
    # An aware time in another zone and one before 1970.
    rows.append(
        rows[0]._replace(time=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))))
    )
    rows.append(rows[1]._replace(time=datetime(1969, 7, 20, 20, 17, 40, 5, tzinfo=UTC)))
    return rows


def test_a_page_built_in_place_equals_one_message_per_row() -> None:
    rows = _rows()
    built = svc.ListTransactionsResponse(next_page_token="t")
    convert.add_transactions(built.transactions, rows)
    expected = svc.ListTransactionsResponse(
        transactions=[convert.transaction(r) for r in rows], next_page_token="t"
    )
    assert built == expected
    assert built.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
    # The cases differ where they should: an unknown type is UNSPECIFIED, a missing time unset.
    assert built.transactions[7].type == 0 and not built.transactions[3].HasField("time")
    assert built.transactions[0].fee_qirat == 7 and built.transactions[2].fee_qirat == 0


def test_an_empty_page_adds_nothing() -> None:
    built = svc.ListTransactionsResponse()
    convert.add_transactions(built.transactions, [])
    assert built == svc.ListTransactionsResponse()
