"""The first service-to-service call, at identity's door: who may add which role with AddUserRole."""

from __future__ import annotations

import grpc
from gx.identity.v1 import identity_service_pb2 as identity_svc
from gx.type.v1 import access_pb2

from services.common.service_auth import ServiceTokenSource, audience_of, load_private_key
from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.wallet.wallet_harness import failure


def _as(mesh: Mesh, service: str, audience: str = "identity") -> tuple[tuple[str, str], ...]:
    key = load_private_key(mesh.keys_dir.parent / f"{service}-service-key.pem")
    return ServiceTokenSource(service, key, audience_of(audience)).metadata()


def _add(user_id: str, role: int) -> identity_svc.AddUserRoleRequest:
    return identity_svc.AddUserRoleRequest(user_id=user_id, role=role)  # type: ignore[arg-type]


async def test_licensing_may_add_role_partner_and_nothing_else(mesh: Mesh) -> None:
    user_id, _, _ = await mesh.user()
    licensing = _as(mesh, "licensing")
    user = (
        await mesh.identity.stub.AddUserRole(_add(user_id, access_pb2.ROLE_PARTNER), metadata=licensing)
    ).user
    assert set(user.roles) == {access_pb2.ROLE_USER, access_pb2.ROLE_PARTNER}
    # Adding it again changes nothing.
    again = (
        await mesh.identity.stub.AddUserRole(_add(user_id, access_pb2.ROLE_PARTNER), metadata=licensing)
    ).user
    assert again.roles == user.roles
    admin = await failure(
        mesh.identity.stub.AddUserRole(_add(user_id, access_pb2.ROLE_ADMIN), metadata=licensing)
    )
    assert (admin.code, admin.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_GRANTABLE")


async def test_a_trusted_service_without_grants_may_add_nothing(mesh: Mesh) -> None:
    user_id, _, _ = await mesh.user()
    refused = await failure(
        mesh.identity.stub.AddUserRole(_add(user_id, access_pb2.ROLE_PARTNER), metadata=_as(mesh, "wallet"))
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_GRANTABLE")


async def test_a_service_token_for_another_audience_is_unauthenticated(mesh: Mesh) -> None:
    user_id, _, _ = await mesh.user()
    refused = await failure(
        mesh.identity.stub.AddUserRole(
            _add(user_id, access_pb2.ROLE_PARTNER), metadata=_as(mesh, "licensing", "wallet")
        )
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


async def test_users_need_super_admin_and_nobody_adds_the_service_role(mesh: Mesh) -> None:
    user_id, _, user_md = await mesh.user()
    plain = await failure(
        mesh.identity.stub.AddUserRole(_add(user_id, access_pb2.ROLE_PARTNER), metadata=user_md)
    )
    assert (plain.code, plain.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")
    admin = await mesh.admin()
    service = await failure(
        mesh.identity.stub.AddUserRole(_add(user_id, access_pb2.ROLE_SERVICE), metadata=admin)
    )
    assert (service.code, set(service.fields)) == (grpc.StatusCode.INVALID_ARGUMENT, {"role"})
    partner = (
        await mesh.identity.stub.AddUserRole(_add(user_id, access_pb2.ROLE_PARTNER), metadata=admin)
    ).user
    assert access_pb2.ROLE_PARTNER in partner.roles
