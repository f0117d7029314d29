"""Which transaction applied a request, as a replay's chaincode event says (outbox/replays.py)."""

from __future__ import annotations

from gx.ledger.v1 import events_pb2

import proto_json
from outbox.replays import replay_of


def _event(**fields: object) -> bytes:
    # Encoded as the chaincode encodes its one event per transaction (chaincode/codec.py).
    return proto_json.encode(events_pb2.LedgerEvents(request_id="r-1", **fields)).encode()  # type: ignore[arg-type]


def test_a_replay_names_the_transaction_that_applied_the_request() -> None:
    assert replay_of(_event(replayed=True, replay_of_tx_id="ab12")) == "ab12"


def test_a_transaction_that_applied_its_request_is_no_replay() -> None:
    applied = events_pb2.LedgerEvents(request_id="r-1")
    applied.events.add().transfer_completed.amount_qirat = 5
    assert replay_of(proto_json.encode(applied).encode()) is None
    assert replay_of(b"") is None  # no event set at all


def test_a_replay_from_a_chaincode_that_names_nothing_keeps_the_transaction_submitted() -> None:
    # A chaincode from before replay_of_tx_id: the outbox records its own transaction, as it did.
    assert replay_of(_event(replayed=True)) is None


def test_a_payload_that_is_not_ledger_events_is_no_replay() -> None:
    assert replay_of(b'{"replayed": "yes", "x') is None
    assert replay_of(b'\xff"replayed"') is None
