"""Licences over gRPC: issue, read as the partner, change tier or expiry, suspend, expire by time."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from tests.grpc.licensing.licensing_harness import Mesh, new_request_id
from tests.grpc.licensing.partners import active_partner, in_future, licence
from tests.grpc.wallet.wallet_harness import failure


async def test_issue_shows_the_configured_quota_and_the_partner_reads_it_through_me(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    issued = await licence(mesh, partner, pb.LICENSE_TIER_BASIC)
    assert (issued.state, issued.tier, issued.quota_per_minute) == (
        pb.LICENSE_STATE_ACTIVE,
        pb.LICENSE_TIER_BASIC,
        600,
    )
    assert issued.partner_id == partner.partner_id

    got = (
        await mesh.stub.GetLicense(
            svc.GetLicenseRequest(partner_id="me", license_id=issued.license_id), metadata=partner.owner
        )
    ).license
    assert got == issued
    listed = await mesh.stub.ListLicenses(svc.ListLicensesRequest(partner_id="me"), metadata=partner.owner)
    assert [x.license_id for x in listed.licenses] == [issued.license_id]


async def test_each_tier_has_its_default_quota(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    quotas = {
        tier: (await licence(mesh, partner, tier)).quota_per_minute
        for tier in (
            pb.LICENSE_TIER_FREE,
            pb.LICENSE_TIER_BASIC,
            pb.LICENSE_TIER_PREMIUM,
            pb.LICENSE_TIER_ENTERPRISE,
        )
    }
    assert list(quotas.values()) == [60, 600, 6_000, 60_000]


async def test_bad_tier_and_past_expiry_are_field_violations(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    past = in_future(seconds=-1)
    bad_expiry = await failure(
        mesh.stub.IssueLicense(
            svc.IssueLicenseRequest(
                partner_id=partner.partner_id, tier=pb.LICENSE_TIER_FREE, expire_time=past
            ),
            metadata=partner.admin,
        )
    )
    assert bad_expiry.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(bad_expiry.fields) == {"expire_time"}
    unknown_tier = await failure(
        mesh.stub.IssueLicense(
            svc.IssueLicenseRequest(partner_id=partner.partner_id, tier=42, expire_time=in_future(days=1)),  # type: ignore[arg-type]
            metadata=partner.admin,
        )
    )
    assert unknown_tier.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(unknown_tier.fields) == {"tier"}
    assert await mesh.sql("SELECT id FROM licensing.licenses") == []


async def test_only_active_partners_get_licences_and_only_admins_issue(mesh: Mesh) -> None:
    admin = await mesh.admin()
    pending = (
        await mesh.stub.CreatePartner(
            svc.CreatePartnerRequest(name="P", email="p@acme.example", contact_person="P")
        )
    ).partner
    refused = await failure(
        mesh.stub.IssueLicense(
            svc.IssueLicenseRequest(
                partner_id=pending.partner_id, tier=pb.LICENSE_TIER_FREE, expire_time=in_future(days=1)
            ),
            metadata=admin,
        )
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PARTNER_NOT_ACTIVE")
    partner = await active_partner(mesh)
    own = await failure(
        mesh.stub.IssueLicense(
            svc.IssueLicenseRequest(
                partner_id=partner.partner_id, tier=pb.LICENSE_TIER_FREE, expire_time=in_future(days=1)
            ),
            metadata=partner.owner,
        )
    )
    assert (own.code, own.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")


async def test_issue_is_idempotent_per_request_id(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    request = svc.IssueLicenseRequest(
        partner_id=partner.partner_id,
        tier=pb.LICENSE_TIER_FREE,
        expire_time=in_future(days=3),
        request_id=new_request_id(),
    )
    first = await mesh.stub.IssueLicense(request, metadata=partner.admin)
    assert await mesh.stub.IssueLicense(request, metadata=partner.admin) == first
    assert len(await mesh.sql("SELECT id FROM licensing.licenses")) == 1


async def test_tier_change_shows_the_new_quota_and_a_mask_limits_the_change(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    issued = await licence(mesh, partner, pb.LICENSE_TIER_FREE)
    change = pb.License(
        partner_id=partner.partner_id,
        license_id=issued.license_id,
        tier=pb.LICENSE_TIER_PREMIUM,
        expire_time=in_future(days=90),
    )
    updated = (
        await mesh.stub.UpdateLicense(
            svc.UpdateLicenseRequest(license=change, update_mask=FieldMask(paths=["tier"])),
            metadata=partner.admin,
        )
    ).license
    assert (updated.tier, updated.quota_per_minute) == (pb.LICENSE_TIER_PREMIUM, 6_000)
    assert updated.expire_time == issued.expire_time
    bad = await failure(
        mesh.stub.UpdateLicense(
            svc.UpdateLicenseRequest(license=change, update_mask=FieldMask(paths=["state"])),
            metadata=partner.admin,
        )
    )
    assert (bad.code, set(bad.fields)) == (grpc.StatusCode.INVALID_ARGUMENT, {"update_mask"})
    change.expire_time.CopyFrom(in_future(seconds=-5))
    past = await failure(
        mesh.stub.UpdateLicense(svc.UpdateLicenseRequest(license=change), metadata=partner.admin)
    )
    assert (past.code, set(past.fields)) == (grpc.StatusCode.INVALID_ARGUMENT, {"license.expire_time"})


async def test_a_licence_expires_by_itself_and_an_extension_revives_it(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    issued = await licence(mesh, partner)
    await mesh.sql("UPDATE licensing.licenses SET expire_at = now() - interval '1 second'")
    expired = (
        await mesh.stub.GetLicense(
            svc.GetLicenseRequest(partner_id=partner.partner_id, license_id=issued.license_id),
            metadata=partner.admin,
        )
    ).license
    assert expired.state == pb.LICENSE_STATE_EXPIRED
    # `tier` is REQUIRED on License, so the client sends it; the mask keeps it unchanged.
    change = pb.License(
        partner_id=partner.partner_id,
        license_id=issued.license_id,
        tier=pb.LICENSE_TIER_ENTERPRISE,
        expire_time=in_future(days=10),
    )
    revived = (
        await mesh.stub.UpdateLicense(
            svc.UpdateLicenseRequest(license=change, update_mask=FieldMask(paths=["expire_time"])),
            metadata=partner.admin,
        )
    ).license
    assert (revived.state, revived.tier) == (pb.LICENSE_STATE_ACTIVE, issued.tier)


async def test_suspension_sticks_through_an_extension(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    issued = await licence(mesh, partner)
    suspend = svc.SuspendLicenseRequest(
        partner_id=partner.partner_id, license_id=issued.license_id, reason="abuse"
    )
    suspended = (await mesh.stub.SuspendLicense(suspend, metadata=partner.admin)).license
    assert (suspended.state, suspended.suspend_reason) == (pb.LICENSE_STATE_SUSPENDED, "abuse")
    change = pb.License(
        partner_id=partner.partner_id,
        license_id=issued.license_id,
        tier=pb.LICENSE_TIER_FREE,
        expire_time=in_future(days=99),
    )
    still = (
        await mesh.stub.UpdateLicense(svc.UpdateLicenseRequest(license=change), metadata=partner.admin)
    ).license
    assert (still.state, still.tier) == (pb.LICENSE_STATE_SUSPENDED, pb.LICENSE_TIER_FREE)


async def test_another_partners_licence_is_not_found(mesh: Mesh) -> None:
    first = await active_partner(mesh)
    second = await active_partner(mesh)
    theirs = await licence(mesh, second)
    hidden = await failure(
        mesh.stub.GetLicense(
            svc.GetLicenseRequest(partner_id="me", license_id=theirs.license_id), metadata=first.owner
        )
    )
    assert (hidden.code, hidden.reason) == (grpc.StatusCode.NOT_FOUND, "LICENSE_NOT_FOUND")
    foreign = await failure(
        mesh.stub.ListLicenses(svc.ListLicensesRequest(partner_id=second.partner_id), metadata=first.owner)
    )
    assert (foreign.code, foreign.reason) == (grpc.StatusCode.NOT_FOUND, "PARTNER_NOT_FOUND")
    missing = await failure(
        mesh.stub.SuspendLicense(
            svc.SuspendLicenseRequest(partner_id=first.partner_id, license_id=str(uuid.uuid4()), reason="x"),
            metadata=first.admin,
        )
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND


async def test_licences_page_newest_first(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    ids = [(await licence(mesh, partner)).license_id for _ in range(3)]
    page = await mesh.stub.ListLicenses(
        svc.ListLicensesRequest(partner_id="me", page_size=2), metadata=partner.owner
    )
    rest = await mesh.stub.ListLicenses(
        svc.ListLicensesRequest(partner_id="me", page_size=2, page_token=page.next_page_token),
        metadata=partner.owner,
    )
    assert [x.license_id for x in [*page.licenses, *rest.licenses]] == ids[::-1]
    assert rest.next_page_token == ""
