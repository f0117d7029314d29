"""Unit tests of the webhook API's mappings: event types, endpoint and delivery messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from gx.licensing.v1 import licensing_pb2 as pb

from services.common import webhook_events
from services.common.webhook_events import response_record
from services.licensing.webhooks import EVENT_TYPES, delivery_message, endpoint_message

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def test_every_event_type_has_its_wire_name_and_no_other() -> None:
    defined = {v.number for v in pb.WebhookEventType.DESCRIPTOR.values if v.number}
    assert set(EVENT_TYPES) == defined
    assert sorted(EVENT_TYPES.values()) == sorted(webhook_events.EVENT_TYPES)


def test_an_endpoint_message_never_carries_the_secret() -> None:
    row = SimpleNamespace(
        id=uuid.uuid4(),
        partner_id=uuid.uuid4(),
        url="https://hooks.example/x",
        event_types=["operation.failed"],
        description="d",
        state="DISABLED",
        secret_prefix="whsec_abcd",
        secret="whsec_abcdefgh",
        previous_secret_expire_at=None,
        created_at=NOW,
        updated_at=NOW,
    )
    message = endpoint_message(row)
    assert list(message.event_types) == [pb.WEBHOOK_EVENT_TYPE_OPERATION_FAILED]
    assert message.state == pb.WEBHOOK_ENDPOINT_STATE_DISABLED
    assert "whsec_abcdefgh" not in str(message)


def _delivery(**fields: object) -> SimpleNamespace:
    base: dict[str, object] = {
        "id": uuid.uuid4(),
        "destination": str(uuid.uuid4()),
        "status": "PENDING",
        "attempts": 2,
        "last_error": None,
        "last_response": None,
        "next_attempt_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "event_id": uuid.uuid4(),
        "event_type": "operation.committed",
        "operation_id": uuid.uuid4(),
    }
    base.update(fields)
    return SimpleNamespace(**base)


def test_a_pending_delivery_shows_its_next_attempt_and_last_answer() -> None:
    message = delivery_message(_delivery(last_response=response_record(503, "busy"), last_error="HTTP_503"))
    assert (message.status, message.attempt_count) == (pb.WEBHOOK_DELIVERY_STATUS_PENDING, 2)
    assert (message.last_response_status, message.last_response_body) == (503, "busy")
    assert message.HasField("next_attempt_time")


def test_finished_deliveries_have_no_next_attempt_and_say_why_without_an_answer() -> None:
    sent = delivery_message(_delivery(status="SENT", last_response=response_record(200, "ok")))
    assert (sent.status, sent.HasField("next_attempt_time")) == (pb.WEBHOOK_DELIVERY_STATUS_SUCCEEDED, False)
    refused = delivery_message(
        _delivery(
            status="FAILED", last_response=response_record(0, ""), last_error="WEBHOOK_URL_ADDRESS_REFUSED: x"
        )
    )
    assert refused.status == pb.WEBHOOK_DELIVERY_STATUS_FAILED
    assert (refused.last_response_status, refused.last_response_body) == (0, "WEBHOOK_URL_ADDRESS_REFUSED: x")
