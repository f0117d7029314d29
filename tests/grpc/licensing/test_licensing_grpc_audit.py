"""Licensing's admin and partner writes leave audit rows (services.common.audit) in their own
transaction: who, what, to which resource, from which address, under which request."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import grpc
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from tests.grpc.licensing.licensing_harness import Mesh, new_request_id
from tests.grpc.licensing.partners import active_partner, licence
from tests.grpc.licensing.webhook_steps import endpoint
from tests.grpc.wallet.wallet_harness import failure


def _subject_of_token(metadata: tuple[tuple[str, str], ...]) -> str:
    """The `sub` of a bearer token in call metadata (read, not verified: the server verified it)."""
    token = dict(metadata)["authorization"].removeprefix("Bearer ")
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


async def _rows(mesh: Mesh, subject_prefix: str) -> list[Any]:
    rows: list[Any] = await mesh.sql(
        "SELECT service, action, actor, subject, address, request_id, trace_id, details FROM audit.events"
        " WHERE subject LIKE :s ORDER BY create_time, action",
        s=subject_prefix + "%",
    )
    return rows


async def test_partner_licence_key_and_webhook_changes_are_audited_with_who_and_what(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    admin_id = _subject_of_token(partner.admin)
    lic = await licence(mesh, partner)
    created = await mesh.stub.CreateApiKey(
        svc.CreateApiKeyRequest(
            partner_id="me", license_id=lic.license_id, environment=pb.API_KEY_ENVIRONMENT_LIVE
        ),
        metadata=partner.owner,
    )
    key_id = created.api_key.key_id
    request_id = f"req-{uuid.uuid4().hex}"
    await mesh.stub.RevokeApiKey(
        svc.RevokeApiKeyRequest(
            partner_id=partner.partner_id,
            license_id=lic.license_id,
            key_id=key_id,
            request_id=new_request_id(),
        ),
        metadata=(*partner.admin, ("x-request-id", request_id)),
    )
    hook = (await endpoint(mesh, partner, "http://127.0.0.1:9/gx")).webhook_endpoint

    rows = await _rows(mesh, f"partners/{partner.partner_id}")
    by_action = {r.action: r for r in rows}
    assert {"licensing.CreatePartner", "licensing.ApprovePartner", "licensing.IssueLicense"} <= set(by_action)
    assert by_action["licensing.CreatePartner"].actor == partner.owner_id
    approve = by_action["licensing.ApprovePartner"]
    assert (approve.service, approve.actor, approve.subject) == (
        "licensing",
        admin_id,
        f"partners/{partner.partner_id}",
    )
    assert (
        by_action["licensing.IssueLicense"].subject
        == f"partners/{partner.partner_id}/licenses/{lic.license_id}"
    )
    key_subject = f"partners/{partner.partner_id}/licenses/{lic.license_id}/apiKeys/{key_id}"
    assert by_action["licensing.CreateApiKey"].subject == key_subject
    assert by_action["licensing.CreateApiKey"].actor == partner.owner_id
    revoke = by_action["licensing.RevokeApiKey"]
    assert (revoke.subject, revoke.actor, revoke.request_id) == (key_subject, admin_id, request_id)
    assert revoke.address == "127.0.0.1" and len(revoke.trace_id) == 32
    webhook = by_action["licensing.CreateWebhookEndpoint"]
    assert webhook.subject == f"partners/{partner.partner_id}/webhookEndpoints/{hook.endpoint_id}"
    assert webhook.details["url"] == "http://127.0.0.1:9/gx"
    # A secret is never copied into the trail.
    assert all("secret" not in json.dumps(r.details).lower() for r in rows)
    assert created.secret not in json.dumps([r.details for r in rows])


async def test_a_refused_write_and_a_replay_leave_no_extra_audit_row(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    # Approving an active partner is refused: nothing is audited for it.
    refused = await failure(
        mesh.stub.ApprovePartner(
            svc.ApprovePartnerRequest(partner_id=partner.partner_id), metadata=partner.admin
        )
    )
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    rid = new_request_id()
    request = svc.SuspendPartnerRequest(partner_id=partner.partner_id, reason="late payment", request_id=rid)
    for _ in range(2):
        await mesh.stub.SuspendPartner(request, metadata=partner.admin)
    actions = [r.action for r in await _rows(mesh, f"partners/{partner.partner_id}")]
    assert actions.count("licensing.ApprovePartner") == 1
    assert actions.count("licensing.SuspendPartner") == 1
