"""Test steps shared by licensing's gRPC tests: an approved partner with its owner signed in again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from tests.grpc.identity.identity_harness import bearer, login
from tests.grpc.licensing.licensing_harness import Mesh, now


@dataclass(frozen=True)
class Partner:
    """An ACTIVE partner and who can act for it."""

    partner_id: str
    owner_id: str
    owner: tuple[tuple[str, str], ...]
    admin: tuple[tuple[str, str], ...]


def in_future(**delta: float) -> Timestamp:
    """A timestamp `delta` from now."""
    ts = Timestamp()
    ts.FromDatetime(now() + timedelta(**delta))
    return ts


async def active_partner(mesh: Mesh) -> Partner:
    """Apply signed in, approve as admin, sign in again to get the ROLE_PARTNER token."""
    user_id, email, md = await mesh.user("partner")
    application = svc.CreatePartnerRequest(
        name="Acme", email=f"ops-{uuid.uuid4().hex[:8]}@acme.example", contact_person="A. Person"
    )
    partner = (await mesh.stub.CreatePartner(application, metadata=md)).partner
    admin = await mesh.admin()
    await mesh.stub.ApprovePartner(svc.ApprovePartnerRequest(partner_id=partner.partner_id), metadata=admin)
    owner = bearer((await login(mesh.identity, email)).access_token)
    return Partner(partner.partner_id, user_id, owner, admin)


async def licence(
    mesh: Mesh, partner: Partner, tier: int = pb.LICENSE_TIER_BASIC, days: float = 30
) -> pb.License:
    """A licence issued by the admin."""
    request = svc.IssueLicenseRequest(
        partner_id=partner.partner_id, tier=tier, expire_time=in_future(days=days)
    )
    return (await mesh.stub.IssueLicense(request, metadata=partner.admin)).license
