"""Approval while identity is unreachable: UNAVAILABLE with a reason, and the partner unchanged."""

from __future__ import annotations

import grpc
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from tests.grpc.licensing.licensing_harness import Mesh, new_request_id
from tests.grpc.wallet.wallet_harness import failure


async def test_an_approval_without_identity_fails_retryably_and_changes_nothing(mesh: Mesh) -> None:
    admin = await mesh.admin()
    _, _, md = await mesh.user()
    partner = (
        await mesh.stub.CreatePartner(
            svc.CreatePartnerRequest(name="Down", email="down@acme.example", contact_person="D"), metadata=md
        )
    ).partner
    # Licensing keeps identity's signing keys it already fetched, so the admin's token still
    # verifies; only the role grant needs identity.
    await mesh.identity.server.stop(0)
    request = svc.ApprovePartnerRequest(partner_id=partner.partner_id, request_id=new_request_id())
    down = await failure(mesh.stub.ApprovePartner(request, metadata=admin))
    assert (down.code, down.reason) == (grpc.StatusCode.UNAVAILABLE, "IDENTITY_UNAVAILABLE")
    (row,) = await mesh.sql("SELECT state FROM licensing.partners")
    assert row.state == "PENDING"
    # The failed attempt left no idempotency record: the same request id may run again later.
    assert (
        await mesh.sql("SELECT 1 FROM platform.idempotency_records WHERE scope = 'licensing.ApprovePartner'")
        == []
    )
    got = (
        await mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id=partner.partner_id), metadata=admin)
    ).partner
    assert got.state == pb.PARTNER_STATE_PENDING
