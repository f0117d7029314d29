"""The webhook wire format, written once for licensing (the API) and the notifier (the sender).

An event body is `{"id", "type", "created", "data": {"operation": …}}`: `id` is the event's
UUID (the same in every delivery and re-send, so receivers de-duplicate by it), `type` the
dotted name, `created` Unix seconds, and `operation` the `gx.type.v1.Operation` in proto3 JSON,
built from the command row snapshot the trigger stored (migration 0015) by the same
`operation_from_row` GetOperation uses. The body is rendered deterministically, so every attempt
sends the same bytes (only the signature's timestamp changes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from google.protobuf import json_format

from services.common.outbox import operation_from_row

OPERATION_COMMITTED: Final = "operation.committed"
OPERATION_FAILED: Final = "operation.failed"
EVENT_TYPES: Final = (OPERATION_COMMITTED, OPERATION_FAILED)
# At most this much of a receiver's answer is kept in the delivery log.
RESPONSE_EXCERPT_CHARS: Final = 500

_TIMES: Final = ("created_at", "updated_at")


def operation_json(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The Operation (proto3 JSON, lowerCamelCase) of a command snapshot stored with an event."""
    row = {
        k: (datetime.fromisoformat(v) if k in _TIMES and isinstance(v, str) else v)
        for k, v in snapshot.items()
    }
    operation: dict[str, Any] = json_format.MessageToDict(operation_from_row(row))
    return operation


def event_body(event_id: str, event_type: str, created: datetime, snapshot: Mapping[str, Any]) -> bytes:
    """The exact bytes POSTed for an event."""
    body = {
        "id": event_id,
        "type": event_type,
        "created": int(created.timestamp()),
        "data": {"operation": operation_json(snapshot)},
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def response_record(status: int, body: str) -> str:
    """How one attempt's answer is kept in `notify.messages.last_response` (status 0: no answer)."""
    return json.dumps({"status": status, "body": body[:RESPONSE_EXCERPT_CHARS]}, ensure_ascii=False)


def parse_response_record(text: str | None) -> tuple[int, str]:
    """(HTTP status, body excerpt) of a recorded answer; (0, '') when there is none."""
    if not text:
        return 0, ""
    try:
        data = json.loads(text)
    except ValueError:
        return 0, text[:RESPONSE_EXCERPT_CHARS]
    if not isinstance(data, dict):
        return 0, text[:RESPONSE_EXCERPT_CHARS]
    status = data.get("status")
    return (status if isinstance(status, int) else 0), str(data.get("body", ""))
