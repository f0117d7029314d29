"""Test steps for partner webhooks: endpoints, and partner operations finished as the outbox worker finishes them."""

from __future__ import annotations

import uuid
from typing import Any

from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import Partner

BOTH = [pb.WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED, pb.WEBHOOK_EVENT_TYPE_OPERATION_FAILED]


async def endpoint(
    mesh: Mesh, partner: Partner, url: str, types: list[pb.WebhookEventType] | None = None
) -> svc.CreateWebhookEndpointResponse:
    """A new endpoint of the partner, created by its owner."""
    request = svc.CreateWebhookEndpointRequest(partner_id="me", url=url, event_types=types or BOTH)
    response: svc.CreateWebhookEndpointResponse = await mesh.stub.CreateWebhookEndpoint(
        request, metadata=partner.owner
    )
    return response


async def partner_operation(mesh: Mesh, partner_id: str, outcome: str = "COMMITTED") -> uuid.UUID:
    """A command recorded by the partner principal, then moved to `outcome` as the outbox worker does.

    The insert names only what record_command always writes; the UPDATE is the worker's own
    terminal write (outbox/repository.py), which fires migration 0015's trigger.
    """
    command_id = uuid.uuid4()
    await mesh.sql(
        "INSERT INTO outbox.commands (id, command_type, payload, request_id, principal_id)"
        " VALUES (:id, 'TRANSFER_TOKENS', CAST('{}' AS jsonb), :rid, :principal)",
        id=command_id,
        rid=str(uuid.uuid4()),
        principal=f"partner:{partner_id}",
    )
    if outcome == "COMMITTED":
        await mesh.sql(
            "UPDATE outbox.commands SET status = 'COMMITTED', tx_id = 'tx-' || id::text, block_number = 42,"
            " result_json = '{}', updated_at = now() WHERE id = :id",
            id=command_id,
        )
    else:
        await mesh.sql(
            "UPDATE outbox.commands SET status = 'FAILED', error_code = 'INSUFFICIENT_BALANCE',"
            " error_message = 'not enough', updated_at = now() WHERE id = :id",
            id=command_id,
        )
    return command_id


async def events_of(mesh: Mesh, command_id: uuid.UUID) -> list[Any]:
    """The webhook events recorded for a command."""
    rows: list[Any] = await mesh.sql(
        "SELECT id, event_type, partner_id FROM licensing.webhook_events WHERE operation_id = :id",
        id=command_id,
    )
    return rows
