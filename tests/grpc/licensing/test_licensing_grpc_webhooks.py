"""Partner webhook endpoints over real gRPC: CRUD, the SSRF and https rules, the event trigger, the delivery log, re-send."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import active_partner
from tests.grpc.licensing.webhook_steps import BOTH, endpoint, events_of, partner_operation
from tests.grpc.wallet.wallet_harness import failure

LOCAL = "http://127.0.0.1:9/hooks"


async def test_create_shows_the_secret_once_and_stores_it_for_signing(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    rid = str(uuid.uuid4())
    request = svc.CreateWebhookEndpointRequest(
        partner_id="me", url=LOCAL, event_types=BOTH, description="orders", request_id=rid
    )
    created = await mesh.stub.CreateWebhookEndpoint(request, metadata=partner.owner)
    hook = created.webhook_endpoint
    assert created.secret.startswith("whsec_") and len(created.secret) > 40
    assert hook.secret_prefix == created.secret[:10]
    assert (hook.partner_id, hook.url, hook.state) == (
        partner.partner_id,
        LOCAL,
        pb.WEBHOOK_ENDPOINT_STATE_ENABLED,
    )
    assert list(hook.event_types) == BOTH
    [(stored,)] = await mesh.sql(
        "SELECT secret FROM licensing.webhook_endpoints WHERE id = :id", id=uuid.UUID(hook.endpoint_id)
    )
    assert stored == created.secret

    # A replay answers the same endpoint without the secret; reads never carry it.
    replay = await mesh.stub.CreateWebhookEndpoint(request, metadata=partner.owner)
    assert replay.webhook_endpoint.endpoint_id == hook.endpoint_id and replay.secret == ""
    got = await mesh.stub.GetWebhookEndpoint(
        svc.GetWebhookEndpointRequest(partner_id=partner.partner_id, endpoint_id=hook.endpoint_id),
        metadata=partner.owner,
    )
    assert got.webhook_endpoint == hook
    listed = await mesh.stub.ListWebhookEndpoints(
        svc.ListWebhookEndpointsRequest(partner_id="me"), metadata=partner.owner
    )
    assert [e.endpoint_id for e in listed.webhook_endpoints] == [hook.endpoint_id]
    # No idempotency record holds the secret either.
    [(count,)] = await mesh.sql(
        "SELECT count(*) FROM platform.idempotency_records WHERE position(CAST(:s AS bytea) IN response) > 0",
        s=created.secret.encode(),
    )
    assert count == 0


async def test_non_https_and_internal_targets_are_refused_with_a_reason(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    cases = {
        "http://example.com/hook": "WEBHOOK_URL_NOT_HTTPS",
        "https://10.0.0.5/hook": "WEBHOOK_URL_ADDRESS_REFUSED",
        "https://192.168.1.20/hook": "WEBHOOK_URL_ADDRESS_REFUSED",
        "https://169.254.169.254/latest/meta-data": "WEBHOOK_URL_ADDRESS_REFUSED",
        "https://[::ffff:10.1.1.1]/hook": "WEBHOOK_URL_ADDRESS_REFUSED",
        "https://user:pw@example.com/hook": "WEBHOOK_URL_INVALID",
        "https://no-such-host.invalid/hook": "WEBHOOK_URL_UNRESOLVABLE",
    }
    for url, reason in cases.items():
        request = svc.CreateWebhookEndpointRequest(partner_id="me", url=url, event_types=BOTH)
        refused = await failure(mesh.stub.CreateWebhookEndpoint(request, metadata=partner.owner))
        assert (refused.code, refused.reason, list(refused.fields)) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            reason,
            ["url"],
        ), url
    [(count,)] = await mesh.sql("SELECT count(*) FROM licensing.webhook_endpoints")
    assert count == 0


async def test_validation_and_access(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    other = await active_partner(mesh)
    empty = await failure(
        mesh.stub.CreateWebhookEndpoint(
            svc.CreateWebhookEndpointRequest(partner_id="me", url=LOCAL), metadata=partner.owner
        )
    )
    assert empty.code == grpc.StatusCode.INVALID_ARGUMENT and "event_types" in empty.fields
    hook = (await endpoint(mesh, partner, LOCAL)).webhook_endpoint
    # Another partner's owner sees nothing of it; an admin sees it.
    hidden = await failure(
        mesh.stub.GetWebhookEndpoint(
            svc.GetWebhookEndpointRequest(partner_id=partner.partner_id, endpoint_id=hook.endpoint_id),
            metadata=other.owner,
        )
    )
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    mine = await failure(
        mesh.stub.GetWebhookEndpoint(
            svc.GetWebhookEndpointRequest(partner_id="me", endpoint_id=hook.endpoint_id), metadata=other.owner
        )
    )
    assert (mine.code, mine.reason) == (grpc.StatusCode.NOT_FOUND, "WEBHOOK_ENDPOINT_NOT_FOUND")
    seen = await mesh.stub.GetWebhookEndpoint(
        svc.GetWebhookEndpointRequest(partner_id=partner.partner_id, endpoint_id=hook.endpoint_id),
        metadata=partner.admin,
    )
    assert seen.webhook_endpoint.endpoint_id == hook.endpoint_id
    user = (await mesh.user("plain"))[2]
    denied = await failure(
        mesh.stub.ListWebhookEndpoints(svc.ListWebhookEndpointsRequest(partner_id="me"), metadata=user)
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED


async def test_update_checks_a_new_url_and_changes_the_masked_fields(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    hook = (await endpoint(mesh, partner, LOCAL)).webhook_endpoint
    change = pb.WebhookEndpoint(partner_id="me", endpoint_id=hook.endpoint_id, url="https://10.9.9.9/x")
    refused = await failure(
        mesh.stub.UpdateWebhookEndpoint(
            svc.UpdateWebhookEndpointRequest(webhook_endpoint=change, update_mask=FieldMask(paths=["url"])),
            metadata=partner.owner,
        )
    )
    assert (refused.reason, list(refused.fields)) == ("WEBHOOK_URL_ADDRESS_REFUSED", ["webhook_endpoint.url"])
    change = pb.WebhookEndpoint(
        partner_id="me",
        endpoint_id=hook.endpoint_id,
        event_types=[pb.WEBHOOK_EVENT_TYPE_OPERATION_FAILED],
        description="failures only",
    )
    updated = (
        await mesh.stub.UpdateWebhookEndpoint(
            svc.UpdateWebhookEndpointRequest(
                webhook_endpoint=change, update_mask=FieldMask(paths=["event_types", "description"])
            ),
            metadata=partner.owner,
        )
    ).webhook_endpoint
    assert list(updated.event_types) == [pb.WEBHOOK_EVENT_TYPE_OPERATION_FAILED]
    assert (updated.description, updated.url, updated.state) == (
        "failures only",
        LOCAL,
        pb.WEBHOOK_ENDPOINT_STATE_ENABLED,
    )
    bad_mask = await failure(
        mesh.stub.UpdateWebhookEndpoint(
            svc.UpdateWebhookEndpointRequest(
                webhook_endpoint=change, update_mask=FieldMask(paths=["secret_prefix"])
            ),
            metadata=partner.owner,
        )
    )
    assert bad_mask.code == grpc.StatusCode.INVALID_ARGUMENT and "update_mask" in bad_mask.fields


async def test_a_partner_operation_records_one_event_and_a_delivery_per_subscribed_endpoint(
    mesh: Mesh,
) -> None:
    partner = await active_partner(mesh)
    other = await active_partner(mesh)
    both = (await endpoint(mesh, partner, LOCAL)).webhook_endpoint
    failed_only = (
        await endpoint(mesh, partner, LOCAL, [pb.WEBHOOK_EVENT_TYPE_OPERATION_FAILED])
    ).webhook_endpoint
    await endpoint(mesh, other, LOCAL)

    committed = await partner_operation(mesh, partner.partner_id)
    [event] = await events_of(mesh, committed)
    assert (event.event_type, str(event.partner_id)) == ("operation.committed", partner.partner_id)
    log = await mesh.stub.ListWebhookDeliveries(
        svc.ListWebhookDeliveriesRequest(partner_id="me", endpoint_id=both.endpoint_id),
        metadata=partner.owner,
    )
    [delivery] = log.webhook_deliveries
    assert (delivery.event_id, delivery.event_type, delivery.operation) == (
        str(event.id),
        pb.WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED,
        f"operations/{committed}",
    )
    assert (delivery.status, delivery.attempt_count) == (pb.WEBHOOK_DELIVERY_STATUS_PENDING, 0)
    assert delivery.HasField("next_attempt_time")
    none = await mesh.stub.ListWebhookDeliveries(
        svc.ListWebhookDeliveriesRequest(partner_id="me", endpoint_id=failed_only.endpoint_id),
        metadata=partner.owner,
    )
    assert list(none.webhook_deliveries) == []

    failed = await partner_operation(mesh, partner.partner_id, "FAILED")
    [failure_event] = await events_of(mesh, failed)
    assert failure_event.event_type == "operation.failed"
    [(count,)] = await mesh.sql(
        "SELECT count(*) FROM notify.messages WHERE channel = 'webhook' AND payload->>'event_id' = :e",
        e=str(failure_event.id),
    )
    assert count == 2

    # A user's command (not a partner principal) records nothing.
    user_command = uuid.uuid4()
    await mesh.sql(
        "INSERT INTO outbox.commands (id, command_type, payload, request_id, principal_id)"
        " VALUES (:id, 'TRANSFER_TOKENS', CAST('{}' AS jsonb), :rid, :p)",
        id=user_command,
        rid=str(uuid.uuid4()),
        p=str(uuid.uuid4()),
    )
    await mesh.sql("UPDATE outbox.commands SET status = 'COMMITTED' WHERE id = :id", id=user_command)
    assert await events_of(mesh, user_command) == []


async def test_resend_adds_a_delivery_with_the_same_event_id(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    other = await active_partner(mesh)
    hook = (await endpoint(mesh, partner, LOCAL)).webhook_endpoint
    command = await partner_operation(mesh, partner.partner_id)
    [event] = await events_of(mesh, command)
    rid = str(uuid.uuid4())
    request = svc.ResendWebhookEventRequest(
        partner_id="me", endpoint_id=hook.endpoint_id, event_id=str(event.id), request_id=rid
    )
    resent = (await mesh.stub.ResendWebhookEvent(request, metadata=partner.owner)).webhook_delivery
    assert (resent.event_id, resent.status) == (str(event.id), pb.WEBHOOK_DELIVERY_STATUS_PENDING)
    replay = (await mesh.stub.ResendWebhookEvent(request, metadata=partner.owner)).webhook_delivery
    assert replay.delivery_id == resent.delivery_id
    log = await mesh.stub.ListWebhookDeliveries(
        svc.ListWebhookDeliveriesRequest(
            partner_id="me", endpoint_id=hook.endpoint_id, event_id=str(event.id), page_size=1
        ),
        metadata=partner.owner,
    )
    assert [d.delivery_id for d in log.webhook_deliveries] == [resent.delivery_id] and log.next_page_token
    page2 = await mesh.stub.ListWebhookDeliveries(
        svc.ListWebhookDeliveriesRequest(
            partner_id="me",
            endpoint_id=hook.endpoint_id,
            event_id=str(event.id),
            page_size=1,
            page_token=log.next_page_token,
        ),
        metadata=partner.owner,
    )
    assert (
        len(page2.webhook_deliveries) == 1 and page2.webhook_deliveries[0].delivery_id != resent.delivery_id
    )

    # Another partner's event is not found; a disabled endpoint refuses.
    other_command = await partner_operation(mesh, other.partner_id)
    [other_event] = await events_of(mesh, other_command)
    missing = await failure(
        mesh.stub.ResendWebhookEvent(
            svc.ResendWebhookEventRequest(
                partner_id="me", endpoint_id=hook.endpoint_id, event_id=str(other_event.id)
            ),
            metadata=partner.owner,
        )
    )
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "WEBHOOK_EVENT_NOT_FOUND")
    disable = pb.WebhookEndpoint(
        partner_id="me", endpoint_id=hook.endpoint_id, state=pb.WEBHOOK_ENDPOINT_STATE_DISABLED
    )
    await mesh.stub.UpdateWebhookEndpoint(
        svc.UpdateWebhookEndpointRequest(webhook_endpoint=disable, update_mask=FieldMask(paths=["state"])),
        metadata=partner.owner,
    )
    refused = await failure(
        mesh.stub.ResendWebhookEvent(
            svc.ResendWebhookEventRequest(
                partner_id="me", endpoint_id=hook.endpoint_id, event_id=str(event.id)
            ),
            metadata=partner.owner,
        )
    )
    assert (refused.code, refused.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "WEBHOOK_ENDPOINT_DISABLED",
    )
    # Disabling gave up what was waiting.
    after = await mesh.stub.ListWebhookDeliveries(
        svc.ListWebhookDeliveriesRequest(partner_id="me", endpoint_id=hook.endpoint_id),
        metadata=partner.owner,
    )
    assert {d.status for d in after.webhook_deliveries} == {pb.WEBHOOK_DELIVERY_STATUS_FAILED}
    assert {d.last_response_body for d in after.webhook_deliveries} == {"the endpoint was disabled"}


async def test_delete_gives_up_deliveries_and_the_endpoint_is_gone(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    hook = (await endpoint(mesh, partner, LOCAL)).webhook_endpoint
    await partner_operation(mesh, partner.partner_id)
    rid = str(uuid.uuid4())
    request = svc.DeleteWebhookEndpointRequest(partner_id="me", endpoint_id=hook.endpoint_id, request_id=rid)
    deleted = await mesh.stub.DeleteWebhookEndpoint(request, metadata=partner.owner)
    assert deleted.endpoint_id == hook.endpoint_id
    assert (
        await mesh.stub.DeleteWebhookEndpoint(request, metadata=partner.owner)
    ).endpoint_id == hook.endpoint_id
    again = await failure(
        mesh.stub.DeleteWebhookEndpoint(
            svc.DeleteWebhookEndpointRequest(partner_id="me", endpoint_id=hook.endpoint_id),
            metadata=partner.owner,
        )
    )
    assert again.code == grpc.StatusCode.NOT_FOUND
    [(status,)] = await mesh.sql(
        "SELECT status FROM notify.messages WHERE channel = 'webhook' AND destination = :d",
        d=hook.endpoint_id,
    )
    assert status == "FAILED"
    # A later operation records its event but no delivery to the deleted endpoint.
    command = await partner_operation(mesh, partner.partner_id)
    assert len(await events_of(mesh, command)) == 1
    [(count,)] = await mesh.sql(
        "SELECT count(*) FROM notify.messages WHERE destination = :d", d=hook.endpoint_id
    )
    assert count == 1


async def test_roll_secret_shows_the_new_secret_once_and_keeps_the_old_one_for_the_grace_period(
    mesh: Mesh,
) -> None:
    partner = await active_partner(mesh)
    created = await endpoint(mesh, partner, LOCAL)
    hook = created.webhook_endpoint
    assert not hook.HasField("previous_secret_expire_time")
    request = svc.RollWebhookEndpointSecretRequest(
        partner_id="me", endpoint_id=hook.endpoint_id, request_id=str(uuid.uuid4())
    )
    rolled = await mesh.stub.RollWebhookEndpointSecret(request, metadata=partner.owner)
    assert rolled.secret.startswith("whsec_") and rolled.secret != created.secret
    assert rolled.webhook_endpoint.secret_prefix == rolled.secret[:10]
    grace = rolled.webhook_endpoint.previous_secret_expire_time.ToDatetime() - hook.create_time.ToDatetime()
    assert 23 * 3600 < grace.total_seconds() < 25 * 3600
    [(secret, previous)] = await mesh.sql(
        "SELECT secret, previous_secret FROM licensing.webhook_endpoints WHERE id = :id",
        id=uuid.UUID(hook.endpoint_id),
    )
    assert (secret, previous) == (rolled.secret, created.secret)
    replay = await mesh.stub.RollWebhookEndpointSecret(request, metadata=partner.owner)
    assert (
        replay.secret == "" and replay.webhook_endpoint.secret_prefix == rolled.webhook_endpoint.secret_prefix
    )

    # No grace: the old secret stops at once.
    at_once = svc.RollWebhookEndpointSecretRequest(partner_id="me", endpoint_id=hook.endpoint_id)
    at_once.grace_period.FromSeconds(0)
    now_only = await mesh.stub.RollWebhookEndpointSecret(at_once, metadata=partner.owner)
    assert not now_only.webhook_endpoint.HasField("previous_secret_expire_time")
    too_long = svc.RollWebhookEndpointSecretRequest(partner_id="me", endpoint_id=hook.endpoint_id)
    too_long.grace_period.FromSeconds(8 * 86400)
    refused = await failure(mesh.stub.RollWebhookEndpointSecret(too_long, metadata=partner.owner))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT and "grace_period" in refused.fields
