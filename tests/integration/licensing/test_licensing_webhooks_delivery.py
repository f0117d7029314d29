"""Partner webhooks end to end over real PostgreSQL: the outbox worker's own outcome statement records the event
(migration 0015's trigger), the real notifier worker signs and POSTs it to a receiver on 127.0.0.1, a failing
receiver is retried until it succeeds, the delivery log shows each step, and a re-send arrives with the same id."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from gx.ledger.v1 import commands_pb2
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import async_sessionmaker

from notifier.metrics import NotifierMetrics
from notifier.repository import NotifierRepository
from notifier.webhooks import SqlWebhookStore, WebhookTransport
from notifier.worker import NotifierWorker, WorkerSettings
from outbox.repository import OutboxRepository
from services.common.outbox import record_command
from services.common.webhook_signature import SignatureError, verify
from services.common.webhook_targets import TargetPolicy
from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import Partner, active_partner
from tests.grpc.licensing.webhook_steps import endpoint
from tests.support.webhook_receiver import Receiver, running_receiver


@pytest.fixture
async def notifier(mesh: Mesh) -> AsyncIterator[NotifierWorker]:
    """The notifier worker with the webhook transport, retrying fast (the backoff has its own unit test)."""
    worker = NotifierWorker(
        NotifierRepository(mesh.engine, lease_seconds=30),
        {"webhook": WebhookTransport(SqlWebhookStore(mesh.engine), TargetPolicy(allow_loopback=True))},
        NotifierMetrics(CollectorRegistry()),
        WorkerSettings(poll_interval=0.1, backoff_initial=0.2, backoff_max=0.4),
        listen_dsn=None,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.shutdown()
        await task


async def _partner_transfer_finishes(mesh: Mesh, partner: Partner, outcome: str = "COMMITTED") -> uuid.UUID:
    """A transfer recorded by the partner principal, then finished by the outbox worker's own statements."""
    payload = commands_pb2.TransferTokensRequest(
        from_account_id=str(uuid.uuid4()), to_account_id=str(uuid.uuid4()), amount_qirat=5_000_000
    )
    async with async_sessionmaker(mesh.engine).begin() as session:
        operation = await record_command(
            session, "TRANSFER_TOKENS", payload, principal_id=f"partner:{partner.partner_id}"
        )
    command_id = uuid.UUID(operation.name.removeprefix("operations/"))
    outbox = OutboxRepository(mesh.engine, owner=f"test-{uuid.uuid4().hex[:6]}", lease_seconds=30)
    claimed = [c.id for c in await outbox.claim(100)]
    assert command_id in claimed
    if outcome == "COMMITTED":
        assert await outbox.record_committed(command_id, 12, '{"ok":true}')
    else:
        assert await outbox.record_failed(command_id, "INSUFFICIENT_BALANCE", "balance too low")
    return command_id


async def _log(mesh: Mesh, partner: Partner, endpoint_id: str) -> list[pb.WebhookDelivery]:
    response = await mesh.stub.ListWebhookDeliveries(
        svc.ListWebhookDeliveriesRequest(partner_id="me", endpoint_id=endpoint_id), metadata=partner.owner
    )
    return list(response.webhook_deliveries)


async def _until_done(
    mesh: Mesh, partner: Partner, endpoint_id: str, count: int = 1
) -> list[pb.WebhookDelivery]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log = await _log(mesh, partner, endpoint_id)
        if len(log) >= count and all(d.status != pb.WEBHOOK_DELIVERY_STATUS_PENDING for d in log):
            return log
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries still pending: {await _log(mesh, partner, endpoint_id)}")


async def _received(receiver: Receiver, count: int) -> list[dict[str, object]]:
    arrived = await asyncio.to_thread(receiver.wait_for, count)
    return [json.loads(r.body) for r in arrived]


async def test_a_committed_partner_operation_arrives_signed_once(
    mesh: Mesh, notifier: NotifierWorker
) -> None:
    partner = await active_partner(mesh)
    with running_receiver() as receiver:
        created = await endpoint(mesh, partner, receiver.url)
        command_id = await _partner_transfer_finishes(mesh, partner)
        [body] = await _received(receiver, 1)
        [request] = receiver.received
        # The receiver's own check, with the secret it was shown once.
        verify(created.secret, request.headers["gx-signature"], request.body, now=int(time.time()))
        assert body["type"] == "operation.committed"
        operation = body["data"]["operation"]  # type: ignore[index]
        assert operation["name"] == f"operations/{command_id}"
        assert (operation["state"], operation["blockNumber"]) == ("OPERATION_STATE_COMMITTED", "12")
        [delivery] = await _until_done(mesh, partner, created.webhook_endpoint.endpoint_id)
        assert (delivery.status, delivery.attempt_count, delivery.last_response_status) == (
            pb.WEBHOOK_DELIVERY_STATUS_SUCCEEDED,
            1,
            200,
        )
        assert delivery.event_id == body["id"] == request.headers["gx-event-id"]
        assert not delivery.HasField("next_attempt_time")
        await asyncio.sleep(0.5)
        assert len(receiver.received) == 1


async def test_a_failing_receiver_is_retried_until_it_answers_2xx(
    mesh: Mesh, notifier: NotifierWorker
) -> None:
    partner = await active_partner(mesh)
    with running_receiver() as receiver:
        receiver.statuses.extend([500, 503])
        created = await endpoint(mesh, partner, receiver.url, [pb.WEBHOOK_EVENT_TYPE_OPERATION_FAILED])
        await _partner_transfer_finishes(mesh, partner, "COMMITTED")  # not subscribed: nothing sent
        await _partner_transfer_finishes(mesh, partner, "FAILED")
        bodies = await _received(receiver, 3)
        [delivery] = await _until_done(mesh, partner, created.webhook_endpoint.endpoint_id)
    # Three attempts of one event: the same id and the same body every time.
    assert len({b["id"] for b in bodies}) == 1 and len({r.body for r in receiver.received}) == 1
    assert bodies[0]["type"] == "operation.failed"
    assert bodies[0]["data"]["operation"]["error"]["reason"] == "INSUFFICIENT_BALANCE"  # type: ignore[index]
    assert [r.headers["gx-delivery-attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert (delivery.status, delivery.attempt_count, delivery.last_response_status) == (
        pb.WEBHOOK_DELIVERY_STATUS_SUCCEEDED,
        3,
        200,
    )


async def test_the_log_shows_a_failing_attempt_and_a_resend_arrives_with_the_same_event_id(
    mesh: Mesh, notifier: NotifierWorker
) -> None:
    partner = await active_partner(mesh)
    with running_receiver() as receiver:
        receiver.statuses.extend([500] * 100)
        created = await endpoint(mesh, partner, receiver.url)
        endpoint_id = created.webhook_endpoint.endpoint_id
        await _partner_transfer_finishes(mesh, partner)
        await asyncio.to_thread(receiver.wait_for, 2)
        [pending] = await _log(mesh, partner, endpoint_id)
        assert pending.status == pb.WEBHOOK_DELIVERY_STATUS_PENDING
        assert pending.attempt_count >= 1 and pending.last_response_status == 500
        assert pending.last_response_body == "receiver says no"
        # The partner gives up on that endpoint for now; later it answers and the event is re-sent.
        disable = pb.WebhookEndpoint(
            partner_id="me", endpoint_id=endpoint_id, state=pb.WEBHOOK_ENDPOINT_STATE_DISABLED
        )
        enable = pb.WebhookEndpoint(
            partner_id="me", endpoint_id=endpoint_id, state=pb.WEBHOOK_ENDPOINT_STATE_ENABLED
        )
        for change in (disable, enable):
            await mesh.stub.UpdateWebhookEndpoint(
                svc.UpdateWebhookEndpointRequest(webhook_endpoint=change, update_mask={"paths": ["state"]}),
                metadata=partner.owner,
            )
        [given_up] = await _until_done(mesh, partner, endpoint_id)
        assert given_up.status == pb.WEBHOOK_DELIVERY_STATUS_FAILED
        receiver.statuses.clear()
        before = len(receiver.received)
        resent = await mesh.stub.ResendWebhookEvent(
            svc.ResendWebhookEventRequest(
                partner_id="me", endpoint_id=endpoint_id, event_id=given_up.event_id
            ),
            metadata=partner.owner,
        )
        arrived = await asyncio.to_thread(receiver.wait_for, before + 1)
        log = await _until_done(mesh, partner, endpoint_id, 2)
    assert json.loads(arrived[-1].body)["id"] == given_up.event_id
    assert log[0].delivery_id == resent.webhook_delivery.delivery_id
    assert log[0].status == pb.WEBHOOK_DELIVERY_STATUS_SUCCEEDED and log[0].attempt_count == 1


async def test_after_a_roll_both_secrets_verify_until_the_grace_period_ends(
    mesh: Mesh, notifier: NotifierWorker
) -> None:
    partner = await active_partner(mesh)
    with running_receiver() as receiver:
        created = await endpoint(mesh, partner, receiver.url)
        endpoint_id = created.webhook_endpoint.endpoint_id
        rolled = await mesh.stub.RollWebhookEndpointSecret(
            svc.RollWebhookEndpointSecretRequest(partner_id="me", endpoint_id=endpoint_id),
            metadata=partner.owner,
        )
        await _partner_transfer_finishes(mesh, partner)
        [during] = await asyncio.to_thread(receiver.wait_for, 1)
        at_once = svc.RollWebhookEndpointSecretRequest(partner_id="me", endpoint_id=endpoint_id)
        at_once.grace_period.FromSeconds(0)
        final = await mesh.stub.RollWebhookEndpointSecret(at_once, metadata=partner.owner)
        await _partner_transfer_finishes(mesh, partner)
        after = (await asyncio.to_thread(receiver.wait_for, 2))[1]
    now = int(time.time())
    for secret in (created.secret, rolled.secret):
        verify(secret, during.headers["gx-signature"], during.body, now=now)
    verify(final.secret, after.headers["gx-signature"], after.body, now=now)
    assert after.headers["gx-signature"].count("v1=") == 1
    with pytest.raises(SignatureError):
        verify(rolled.secret, after.headers["gx-signature"], after.body, now=now)
