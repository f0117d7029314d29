"""projector.decode reads LedgerEvents through proto_json and still treats bad payloads as poison.

The codec's equivalence with json_format is proven in tests/unit/codec_proto_json; this pins the
projector's side: the same message as json_format for a real event, and PoisonEventError (never
another exception, never a half-read message) for everything json_format refuses.
"""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from gx.ledger.v1 import events_pb2
from gx.type.v1 import command_pb2

from projector.decode import PoisonEventError, decode


def _payload() -> bytes:
    message = events_pb2.LedgerEvents(
        request_id="5f0e4b1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b",
        command_type=command_pb2.COMMAND_TYPE_TRANSFER_TOKENS,
        function="TransferTokens",
        time={"seconds": 1_796_000_000, "nanos": 250_000_000},
        events=[
            events_pb2.LedgerEvent(
                transfer_completed=events_pb2.TransferCompleted(
                    from_account_id="a", to_account_id="b", amount_qirat=5_000_000, from_balance_qirat=2**62
                )
            ),
            events_pb2.LedgerEvent(fee_collected=events_pb2.FeeCollected(fee_qirat=10_000)),
        ],
    )
    text: str = json_format.MessageToJson(message, indent=None)
    return text.encode("utf-8")


def test_a_chaincode_event_decodes_to_json_formats_message() -> None:
    payload = _payload()
    expected = events_pb2.LedgerEvents()
    json_format.Parse(payload, expected)
    assert decode("LedgerEvents", payload) == expected
    assert decode("LedgerEvents", payload).events[0].transfer_completed.from_balance_qirat == 2**62


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe",  # not UTF-8
        b"not json",
        b'{"events": [{"noSuchEvent": {}}]}',  # a kind this projector does not know
        b'{"requestId": "a", "requestId": "b"}',  # json_format refuses duplicate keys
        b'{"events": [{"transferCompleted": {}, "feeCollected": {}}]}',  # two kinds in one event
        b'{"time": "2026-12-06T08:00:60Z"}',
        b'{"events": [{"transferCompleted": {"amountQirat": "9223372036854775808"}}]}',
        b'{"events": [{}]}',  # an event of no kind
    ],
)
def test_what_json_format_refuses_is_poison(payload: bytes) -> None:
    with pytest.raises(PoisonEventError):
        decode("LedgerEvents", payload)
