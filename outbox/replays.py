"""Whether a transaction repeated a request an earlier transaction applied, and which one that was.

Every state-changing chaincode function records its request id; a second transaction with the same
id changes nothing, answers the first result and says so in its event (`LedgerEvents.replayed`),
naming the transaction that applied the request (`replay_of_tx_id`). The outbox meets one when an
attempt was submitted but not stored before a crash (processor step 2), or when another command
carried the same request id; it then records the transaction that carries the effect.
"""

from __future__ import annotations

from google.protobuf import json_format
from gx.ledger.v1 import events_pb2

# Only a replay's event has the key (proto JSON leaves a false bool out), so the payload of every
# other transaction is passed over with one substring search instead of a parse.
_REPLAYED_KEY = b'"replayed"'


def replay_of(event: bytes) -> str | None:
    """The id of the transaction that applied the request, if `event` (the payload of the
    chaincode event a transaction set) says the transaction was a replay naming it; else None.

    A payload that is not `LedgerEvents` JSON is no replay: the outbox records what it submitted,
    and the projector, which reads the same event strictly, is the one to stop on it.
    """
    if _REPLAYED_KEY not in event:
        return None
    try:
        message = json_format.Parse(event, events_pb2.LedgerEvents(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError):
        return None
    return (message.replay_of_tx_id or None) if message.replayed else None
