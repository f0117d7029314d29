"""The webhook transport against a real HTTP receiver on 127.0.0.1, with endpoints and events in memory."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import pytest

from notifier.transports import Message
from notifier.webhooks import Endpoint, Event, WebhookTransport, pinned_request
from services.common.webhook_events import parse_response_record
from services.common.webhook_signature import new_secret, verify
from services.common.webhook_targets import TargetPolicy
from tests.support.webhook_receiver import running_receiver

SNAPSHOT = {
    "id": str(uuid.uuid4()),
    "command_type": "TRANSFER_TOKENS",
    "status": "COMMITTED",
    "tx_id": "tx1",
    "block_number": 3,
    "created_at": "2026-12-06T06:00:00+00:00",
    "updated_at": "2026-12-06T06:00:01+00:00",
}


class Store:
    """Endpoints and events in memory (the SQL store has its integration test)."""

    def __init__(self) -> None:
        self.endpoints: dict[uuid.UUID, Endpoint] = {}
        self.events: dict[uuid.UUID, Event] = {}

    async def endpoint(self, endpoint_id: uuid.UUID) -> Endpoint | None:
        return self.endpoints.get(endpoint_id)

    async def event(self, event_id: uuid.UUID) -> Event | None:
        return self.events.get(event_id)


def _message(endpoint_id: uuid.UUID, event_id: uuid.UUID, attempts: int = 1) -> Message:
    return Message(
        id=uuid.uuid4(),
        channel="webhook",
        destination=str(endpoint_id),
        to_user_id=None,
        template="operation.committed",
        payload={"event_id": str(event_id), "endpoint_id": str(endpoint_id)},
        attempts=attempts,
        created_at=datetime.now(UTC),
    )


def _setup(url: str, enabled: bool = True) -> tuple[Store, uuid.UUID, uuid.UUID, str]:
    store, secret = Store(), new_secret()
    endpoint_id, event_id = uuid.uuid4(), uuid.uuid4()
    store.endpoints[endpoint_id] = Endpoint(url, enabled, secret)
    store.events[event_id] = Event(event_id, "operation.committed", datetime.now(UTC), SNAPSHOT)
    return store, endpoint_id, event_id, secret


DEV = TargetPolicy(allow_loopback=True)


async def test_a_delivery_is_a_signed_post_the_receiver_can_verify() -> None:
    with running_receiver() as receiver:
        store, endpoint_id, event_id, secret = _setup(receiver.url)
        outcome = await WebhookTransport(store, DEV).deliver(_message(endpoint_id, event_id, attempts=2))
        [got] = receiver.received
    assert outcome.kind == "sent"
    assert parse_response_record(outcome.response) == (200, '{"ok":true}')
    assert got.path == "/hooks" and got.headers["content-type"] == "application/json"
    verify(secret, got.headers["gx-signature"], got.body, now=int(time.time()))
    body = json.loads(got.body)
    assert (body["id"], body["type"]) == (str(event_id), "operation.committed")
    assert body["data"]["operation"]["name"] == f"operations/{SNAPSHOT['id']}"
    assert (got.headers["gx-event-id"], got.headers["gx-delivery-attempt"]) == (str(event_id), "2")


@pytest.mark.parametrize(("status", "kind"), [(500, "retry"), (404, "retry"), (302, "retry"), (204, "sent")])
async def test_non_2xx_answers_are_retried_and_redirects_not_followed(status: int, kind: str) -> None:
    with running_receiver() as receiver:
        receiver.statuses.append(status)
        store, endpoint_id, event_id, _ = _setup(receiver.url)
        outcome = await WebhookTransport(store, DEV).deliver(_message(endpoint_id, event_id))
        assert len(receiver.received) == 1  # a redirect's Location is never requested
    assert outcome.kind == kind
    assert parse_response_record(outcome.response)[0] == status
    if kind == "retry":
        # One metric reason per kind of failure, whatever the status code.
        assert outcome.detail.split(":")[0] == ("HTTP_REDIRECT" if status == 302 else "HTTP_ERROR")


async def test_no_answer_is_retried() -> None:
    with running_receiver() as receiver:
        url = receiver.url
    store, endpoint_id, event_id, _ = _setup(url)  # the port is closed now
    outcome = await WebhookTransport(store, DEV, timeout_seconds=2).deliver(_message(endpoint_id, event_id))
    assert outcome.kind == "retry" and outcome.detail.startswith("NO_RESPONSE")


async def test_outside_dev_loopback_is_refused_at_delivery_and_nothing_is_sent() -> None:
    with running_receiver() as receiver:
        store, endpoint_id, event_id, _ = _setup(receiver.url.replace("http://", "https://"))
        outcome = await WebhookTransport(store, TargetPolicy(allow_loopback=False)).deliver(
            _message(endpoint_id, event_id)
        )
        assert receiver.received == []
    assert outcome.kind == "failed" and outcome.detail.startswith("WEBHOOK_URL_ADDRESS_REFUSED")


async def test_a_disabled_or_deleted_endpoint_gets_nothing() -> None:
    with running_receiver() as receiver:
        store, endpoint_id, event_id, _ = _setup(receiver.url, enabled=False)
        disabled = await WebhookTransport(store, DEV).deliver(_message(endpoint_id, event_id))
        deleted = await WebhookTransport(store, DEV).deliver(_message(uuid.uuid4(), event_id))
        assert receiver.received == []
    assert (disabled.kind, deleted.kind) == ("failed", "failed")
    assert disabled.detail.startswith("ENDPOINT_DISABLED") and deleted.detail.startswith("ENDPOINT_DELETED")


def test_pinned_request_connects_to_the_checked_address_under_the_original_name() -> None:
    request = pinned_request("https://hooks.example.com:8443/a?b=1", "93.184.216.34", b"{}", {})
    assert str(request.url) == "https://93.184.216.34:8443/a?b=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    v6 = pinned_request("https://example.com/x", "2606:4700::1", b"{}", {})
    assert (str(v6.url), v6.headers["host"]) == ("https://[2606:4700::1]/x", "example.com")


async def test_a_rolled_secret_in_its_grace_period_signs_too() -> None:
    with running_receiver() as receiver:
        store, endpoint_id, event_id, secret = _setup(receiver.url)
        old = new_secret()
        store.endpoints[endpoint_id] = Endpoint(receiver.url, True, secret, previous_secret=old)
        assert (await WebhookTransport(store, DEV).deliver(_message(endpoint_id, event_id))).kind == "sent"
        [got] = receiver.received
    for key in (secret, old):
        verify(key, got.headers["gx-signature"], got.body, now=int(time.time()))
