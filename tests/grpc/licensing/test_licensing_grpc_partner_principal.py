"""The partner principal: a key without a bearer token makes the key's partner the caller, through a token identity mints
for licensing (IssuePartnerToken), which the services verify like any other JWT."""

from __future__ import annotations

import grpc
import jwt
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from google.rpc import code_pb2
from gx.identity.v1 import identity_service_pb2 as identity_svc
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from services.common.service_auth import ServiceTokenSource, audience_of, load_private_key
from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import active_partner, licence
from tests.grpc.wallet.wallet_harness import failure


async def _check(mesh: Mesh, key: str, authorization: str | None = None) -> external_auth_pb2.CheckResponse:
    headers = {":path": "/v1/partners/me", "x-api-key": key}
    if authorization is not None:
        headers["authorization"] = authorization
    http = attribute_context_pb2.AttributeContext.HttpRequest(
        method="GET", path="/v1/partners/me", headers=headers
    )
    request = external_auth_pb2.CheckRequest(
        attributes=attribute_context_pb2.AttributeContext(
            request=attribute_context_pb2.AttributeContext.Request(http=http)
        )
    )
    response: external_auth_pb2.CheckResponse = await external_auth_pb2_grpc.AuthorizationStub(
        mesh.channel
    ).Check(request)
    return response


def _set_headers(response: external_auth_pb2.CheckResponse) -> dict[str, str]:
    return {o.header.key: o.header.value for o in response.ok_response.headers}


async def test_a_key_alone_makes_its_partner_the_caller(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    other = await active_partner(mesh)
    lic = await licence(mesh, partner)
    created = await mesh.stub.CreateApiKey(
        svc.CreateApiKeyRequest(
            partner_id="me", license_id=lic.license_id, environment=pb.API_KEY_ENVIRONMENT_LIVE
        ),
        metadata=partner.owner,
    )
    response = await _check(mesh, created.secret)
    assert response.status.code == code_pb2.OK
    authorization = _set_headers(response)["authorization"]
    token = authorization.removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["sub"], claims["roles"], claims["partner_id"]) == (
        f"partner:{partner.partner_id}",
        ["PARTNER"],
        partner.partner_id,
    )
    assert claims["exp"] - claims["iat"] <= 900

    # Licensing verifies it like any token: `me` is the key's partner, another partner is not found.
    as_partner = (("authorization", authorization),)
    me = (await mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id="me"), metadata=as_partner)).partner
    assert me.partner_id == partner.partner_id
    listed = await mesh.stub.ListLicenses(
        svc.ListLicensesRequest(partner_id=partner.partner_id), metadata=as_partner
    )
    assert [x.license_id for x in listed.licenses] == [lic.license_id]
    hidden = await failure(
        mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id=other.partner_id), metadata=as_partner)
    )
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    # An admin-only call stays refused: the partner principal holds ROLE_PARTNER only.
    refused = await failure(mesh.stub.ListPartners(svc.ListPartnersRequest(), metadata=as_partner))
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED

    # The token is reused (cached per partner) until shortly before it expires.
    again = await _check(mesh, created.secret)
    assert _set_headers(again)["authorization"] == authorization


async def test_a_key_with_a_bearer_token_keeps_the_user_as_the_caller(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    created = await mesh.stub.CreateApiKey(
        svc.CreateApiKeyRequest(
            partner_id="me", license_id=lic.license_id, environment=pb.API_KEY_ENVIRONMENT_LIVE
        ),
        metadata=partner.owner,
    )
    response = await _check(mesh, created.secret, authorization=dict(partner.owner)["authorization"])
    assert response.status.code == code_pb2.OK
    set_headers = _set_headers(response)
    assert "authorization" not in set_headers
    assert response.dynamic_metadata["license_id"] == lic.license_id
    # The partner goes upstream as proof for the services (they record it on the user's commands):
    # the partner principal's own token, the one a key alone would make the caller.
    proof = set_headers["x-gx-partner-token"]
    claims = jwt.decode(proof, options={"verify_signature": False})
    assert (claims["sub"], claims["roles"], claims["partner_id"]) == (
        f"partner:{partner.partner_id}",
        ["PARTNER"],
        partner.partner_id,
    )
    assert "x-gx-partner-token" not in response.ok_response.headers_to_remove
    alone = _set_headers(await _check(mesh, created.secret))
    assert alone["authorization"] == f"Bearer {proof}" and "x-gx-partner-token" not in alone
    # Licensing's own interceptor takes it: the user stays the caller, the partner is only attributed.
    me = await mesh.stub.GetPartner(
        svc.GetPartnerRequest(partner_id="me"), metadata=(*partner.owner, ("x-gx-partner-token", proof))
    )
    assert me.partner.partner_id == partner.partner_id
    forged = await failure(
        mesh.stub.GetPartner(
            svc.GetPartnerRequest(partner_id="me"),
            metadata=(*partner.owner, ("x-gx-partner-token", proof[:-4] + "AAAA")),
        )
    )
    assert (forged.code, forged.reason) == (grpc.StatusCode.UNAUTHENTICATED, "PARTNER_TOKEN_INVALID")


async def test_only_licensing_mints_partner_tokens(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    request = identity_svc.IssuePartnerTokenRequest(partner_id=partner.partner_id)
    wallet = ServiceTokenSource(
        "wallet", load_private_key(mesh.keys_dir.parent / "wallet-service-key.pem"), audience_of("identity")
    ).metadata()
    by_wallet = await failure(mesh.identity.stub.IssuePartnerToken(request, metadata=wallet))
    assert (by_wallet.code, by_wallet.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PARTNER_TOKEN_NOT_GRANTED",
    )
    by_admin = await failure(mesh.identity.stub.IssuePartnerToken(request, metadata=await mesh.admin()))
    assert (by_admin.code, by_admin.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")
    licensing = ServiceTokenSource(
        "licensing",
        load_private_key(mesh.keys_dir.parent / "licensing-service-key.pem"),
        audience_of("identity"),
    ).metadata()
    bad = await failure(
        mesh.identity.stub.IssuePartnerToken(
            identity_svc.IssuePartnerTokenRequest(partner_id="nope"), metadata=licensing
        )
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
