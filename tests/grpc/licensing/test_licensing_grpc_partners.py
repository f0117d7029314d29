"""Partners over gRPC: apply (anonymous or signed in), list, approve with the role grant through identity, suspend."""

from __future__ import annotations

import uuid

import grpc
from gx.identity.v1 import identity_service_pb2 as identity_svc
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc
from gx.type.v1 import access_pb2

from tests.grpc.identity.identity_harness import bearer, login
from tests.grpc.licensing.licensing_harness import Mesh, new_request_id
from tests.grpc.wallet.wallet_harness import failure


def _application(email: str | None = None, **fields: str) -> svc.CreatePartnerRequest:
    return svc.CreatePartnerRequest(
        name=fields.pop("name", "Acme Payments"),
        email=email or f"ops-{uuid.uuid4().hex[:8]}@acme.example",
        contact_person="A. Person",
        country_code="LK",
        **fields,
    )


async def test_anyone_may_apply_and_a_signed_in_applicant_becomes_owner(mesh: Mesh) -> None:
    anonymous = (await mesh.stub.CreatePartner(_application())).partner
    assert anonymous.state == pb.PARTNER_STATE_PENDING
    assert anonymous.owner_user_id == ""

    user_id, _, md = await mesh.user("applicant")
    signed = (await mesh.stub.CreatePartner(_application(), metadata=md)).partner
    assert signed.owner_user_id == user_id
    assert signed.country_code == "LK"


async def test_a_second_live_application_with_the_same_email_is_refused(mesh: Mesh) -> None:
    await mesh.stub.CreatePartner(_application("dup@acme.example"))
    refused = await failure(mesh.stub.CreatePartner(_application("DUP@acme.example")))
    assert (refused.code, refused.reason) == (grpc.StatusCode.ALREADY_EXISTS, "PARTNER_EXISTS")


async def test_one_user_owns_at_most_one_partner(mesh: Mesh) -> None:
    _, _, md = await mesh.user("owner")
    await mesh.stub.CreatePartner(_application(), metadata=md)
    refused = await failure(mesh.stub.CreatePartner(_application(), metadata=md))
    assert (refused.code, refused.reason) == (grpc.StatusCode.ALREADY_EXISTS, "PARTNER_OWNER_TAKEN")


async def test_an_identical_retry_replays_and_a_changed_one_is_refused(mesh: Mesh) -> None:
    request = _application(request_id=new_request_id())
    first = (await mesh.stub.CreatePartner(request)).partner
    again = (await mesh.stub.CreatePartner(request)).partner
    assert again == first
    request.name = "Another name"
    reused = await failure(mesh.stub.CreatePartner(request))
    assert (reused.code, reused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert len(await mesh.sql("SELECT id FROM licensing.partners")) == 1


async def test_bad_application_fields_are_reported_together(mesh: Mesh) -> None:
    bad = await failure(
        mesh.stub.CreatePartner(svc.CreatePartnerRequest(email="not-an-email", country_code="lk"))
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {"name", "email", "contact_person", "country_code"} <= set(bad.fields)


async def test_only_admins_list_partners_newest_first_by_state_and_page(mesh: Mesh) -> None:
    _, _, user_md = await mesh.user()
    denied = await failure(mesh.stub.ListPartners(svc.ListPartnersRequest(), metadata=user_md))
    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")

    admin = await mesh.admin()
    ids = [(await mesh.stub.CreatePartner(_application())).partner.partner_id for _ in range(3)]
    await mesh.stub.SuspendPartner(
        svc.SuspendPartnerRequest(partner_id=ids[0], reason="fraud"), metadata=admin
    )
    page = await mesh.stub.ListPartners(
        svc.ListPartnersRequest(page_size=1, state=pb.PARTNER_STATE_PENDING), metadata=admin
    )
    assert [p.partner_id for p in page.partners] == [ids[2]]
    rest = await mesh.stub.ListPartners(
        svc.ListPartnersRequest(page_size=5, state=pb.PARTNER_STATE_PENDING, page_token=page.next_page_token),
        metadata=admin,
    )
    assert [p.partner_id for p in rest.partners] == [ids[1]]
    assert rest.next_page_token == ""
    # A token is bound to its filter.
    mixed = await failure(
        mesh.stub.ListPartners(svc.ListPartnersRequest(page_token=page.next_page_token), metadata=admin)
    )
    assert (mixed.code, mixed.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


async def test_approval_grants_the_owner_role_partner_through_identity_and_me_works(mesh: Mesh) -> None:
    user_id, email, md = await mesh.user("partner")
    partner = (await mesh.stub.CreatePartner(_application(), metadata=md)).partner
    admin = await mesh.admin()

    approved = (
        await mesh.stub.ApprovePartner(
            svc.ApprovePartnerRequest(partner_id=partner.partner_id), metadata=admin
        )
    ).partner
    assert approved.state == pb.PARTNER_STATE_ACTIVE

    # Identity, the owner of roles, now lists ROLE_PARTNER for the user...
    user = (
        await mesh.identity.stub.GetUser(identity_svc.GetUserRequest(user_id=user_id), metadata=admin)
    ).user
    assert access_pb2.ROLE_PARTNER in user.roles
    # ... the pre-approval token, which carries the old roles, cannot read it (refused for its
    # roles, or as revoked once licensing's 1 s deny-list cache has passed) ...
    stale = await failure(mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id="me"), metadata=md))
    assert stale.code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)
    # ... and a new token carries the role, so `me` resolves to the partner.
    partner_md = bearer((await login(mesh.identity, email)).access_token)
    mine = (await mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id="me"), metadata=partner_md)).partner
    assert mine.partner_id == partner.partner_id
    same = (
        await mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id=partner.partner_id), metadata=partner_md)
    ).partner
    assert same == mine

    # Another partner's id answers exactly like a missing one.
    other = (await mesh.stub.CreatePartner(_application())).partner
    hidden = await failure(
        mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id=other.partner_id), metadata=partner_md)
    )
    assert (hidden.code, hidden.reason) == (grpc.StatusCode.NOT_FOUND, "PARTNER_NOT_FOUND")


async def test_approving_an_active_partner_fails_with_a_reason_but_a_retry_replays(mesh: Mesh) -> None:
    admin = await mesh.admin()
    partner = (await mesh.stub.CreatePartner(_application())).partner
    request = svc.ApprovePartnerRequest(partner_id=partner.partner_id, request_id=new_request_id())
    first = await mesh.stub.ApprovePartner(request, metadata=admin)
    assert await mesh.stub.ApprovePartner(request, metadata=admin) == first
    again = await failure(
        mesh.stub.ApprovePartner(svc.ApprovePartnerRequest(partner_id=partner.partner_id), metadata=admin)
    )
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PARTNER_NOT_PENDING")


async def test_a_refused_role_grant_leaves_the_partner_pending(mesh: Mesh) -> None:
    admin = await mesh.admin()
    _, _, md = await mesh.user()
    partner = (await mesh.stub.CreatePartner(_application(), metadata=md)).partner
    # The owner's account is gone from identity's point of view: identity answers NOT_FOUND.
    await mesh.sql("UPDATE licensing.partners SET owner_user_id = :u", u=uuid.uuid4())
    refused = await failure(
        mesh.stub.ApprovePartner(svc.ApprovePartnerRequest(partner_id=partner.partner_id), metadata=admin)
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ROLE_GRANT_REFUSED")
    assert refused.metadata["identity_code"] == "NOT_FOUND"
    assert (await mesh.sql("SELECT state FROM licensing.partners"))[0].state == "PENDING"


async def test_suspend_then_reinstate(mesh: Mesh) -> None:
    admin = await mesh.admin()
    partner = (await mesh.stub.CreatePartner(_application())).partner
    await mesh.stub.ApprovePartner(svc.ApprovePartnerRequest(partner_id=partner.partner_id), metadata=admin)
    suspended = (
        await mesh.stub.SuspendPartner(
            svc.SuspendPartnerRequest(partner_id=partner.partner_id, reason="unpaid"), metadata=admin
        )
    ).partner
    assert (suspended.state, suspended.suspend_reason) == (pb.PARTNER_STATE_SUSPENDED, "unpaid")
    # Suspending again changes nothing (the first reason stays).
    twice = (
        await mesh.stub.SuspendPartner(
            svc.SuspendPartnerRequest(partner_id=partner.partner_id, reason="other"), metadata=admin
        )
    ).partner
    assert twice.suspend_reason == "unpaid"
    back = (
        await mesh.stub.ApprovePartner(
            svc.ApprovePartnerRequest(partner_id=partner.partner_id), metadata=admin
        )
    ).partner
    assert (back.state, back.suspend_reason) == (pb.PARTNER_STATE_ACTIVE, "")


async def test_unknown_partner_and_missing_token(mesh: Mesh) -> None:
    admin = await mesh.admin()
    missing = await failure(
        mesh.stub.ApprovePartner(svc.ApprovePartnerRequest(partner_id=str(uuid.uuid4())), metadata=admin)
    )
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "PARTNER_NOT_FOUND")
    anonymous = await failure(mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id="me")))
    assert (anonymous.code, anonymous.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
