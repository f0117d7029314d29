"""Tokens and access rules at identity's own gRPC door: bad tokens, roles, other users' data."""

from __future__ import annotations

import base64
import json
import time
import uuid

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from grpc_health.v1 import health_pb2, health_pb2_grpc
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc

from tests.grpc.identity.identity_harness import (
    Identity,
    bearer,
    login,
    new_super_admin,
    new_user,
    rich_error,
)


def _claims(sub: str, **over: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "gx-identity",
        "aud": "gx-api",
        "sub": sub,
        "roles": ["USER", "ADMIN", "SUPER_ADMIN"],
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(over)
    return claims


async def _get_me(identity: Identity, token: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(token))
    return err.value


async def test_expired_token_is_unauthenticated(identity: Identity) -> None:
    user_id, _, _ = await new_user(identity)
    key = identity.keys.current
    past = int(time.time()) - 3600
    token = jwt.encode(
        _claims(user_id, iat=past, exp=past + 60),
        key.private_key,
        algorithm="ES256",
        headers={"kid": key.kid},
    )
    err = await _get_me(identity, token)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert rich_error(err)[0].reason == "TOKEN_EXPIRED"  # type: ignore[union-attr]


async def test_token_signed_by_a_foreign_key_with_our_kid_is_rejected(identity: Identity) -> None:
    user_id, _, _ = await new_user(identity)
    forged_key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(
        _claims(user_id), forged_key, algorithm="ES256", headers={"kid": identity.keys.current.kid}
    )
    assert (await _get_me(identity, token)).code() == grpc.StatusCode.UNAUTHENTICATED


async def test_alg_none_token_is_rejected(identity: Identity) -> None:
    user_id, _, _ = await new_user(identity)
    token = jwt.encode(
        _claims(user_id), key=None, algorithm="none", headers={"kid": identity.keys.current.kid}
    )
    assert (await _get_me(identity, token)).code() == grpc.StatusCode.UNAUTHENTICATED


async def test_tampered_payload_is_rejected(identity: Identity) -> None:
    _, _, tokens = await new_user(identity)
    header, _payload, signature = tokens.access_token.split(".")
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    claims["roles"] = ["SUPER_ADMIN"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert (
        await _get_me(identity, f"{header}.{forged_payload}.{signature}")
    ).code() == grpc.StatusCode.UNAUTHENTICATED


async def test_wrong_audience_is_rejected(identity: Identity) -> None:
    user_id, _, _ = await new_user(identity)
    key = identity.keys.current
    token = jwt.encode(
        _claims(user_id, aud="someone-else"), key.private_key, algorithm="ES256", headers={"kid": key.kid}
    )
    assert (await _get_me(identity, token)).code() == grpc.StatusCode.UNAUTHENTICATED


async def test_no_token_is_unauthenticated(identity: Identity) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.GetUser(svc.GetUserRequest(user_id="me"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_another_users_profile_is_not_found_for_users(identity: Identity) -> None:
    _, _, mine = await new_user(identity)
    theirs, _, _ = await new_user(identity)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.GetUser(svc.GetUserRequest(user_id=theirs), metadata=bearer(mine.access_token))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    # Indistinguishable from an id that does not exist at all.
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await identity.stub.GetUser(
            svc.GetUserRequest(user_id=str(uuid.uuid4())), metadata=bearer(mine.access_token)
        )
    assert missing.value.details() == err.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as update:
        await identity.stub.UpdateUser(
            svc.UpdateUserRequest(user=identity_pb2.User(user_id=theirs, display_name="pwned")),
            metadata=bearer(mine.access_token),
        )
    assert update.value.code() == grpc.StatusCode.NOT_FOUND


async def test_admins_read_and_update_anyone(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    theirs, _, _ = await new_user(identity)
    got = await identity.stub.GetUser(svc.GetUserRequest(user_id=theirs), metadata=bearer(admin.access_token))
    assert got.user.user_id == theirs
    updated = await identity.stub.UpdateUser(
        svc.UpdateUserRequest(
            user=identity_pb2.User(user_id=theirs, display_name="Fixed Name", country_code="DE"),
            update_mask={"paths": ["display_name"]},
        ),
        metadata=bearer(admin.access_token),
    )
    assert updated.user.display_name == "Fixed Name"
    assert updated.user.country_code == ""  # not in the mask, so not changed


async def test_update_own_profile_and_bad_mask(identity: Identity) -> None:
    _, _, tokens = await new_user(identity)
    updated = await identity.stub.UpdateUser(
        svc.UpdateUserRequest(user=identity_pb2.User(user_id="me", display_name="Me", country_code="LK")),
        metadata=bearer(tokens.access_token),
    )
    assert (updated.user.display_name, updated.user.country_code) == ("Me", "LK")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.UpdateUser(
            svc.UpdateUserRequest(user=identity_pb2.User(user_id="me"), update_mask={"paths": ["email"]}),
            metadata=bearer(tokens.access_token),
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rich_error(err.value)[1].field_violations[0].field == "update_mask"  # type: ignore[union-attr]


async def test_admin_rpcs_refuse_plain_users(identity: Identity) -> None:
    _, _, tokens = await new_user(identity)
    target, _, _ = await new_user(identity)
    calls = [
        identity.stub.ListKycSubmissions(
            svc.ListKycSubmissionsRequest(), metadata=bearer(tokens.access_token)
        ),
        identity.stub.FreezeUser(
            svc.FreezeUserRequest(user_id=target, reason="x"), metadata=bearer(tokens.access_token)
        ),
        identity.stub.SetUserRoles(
            svc.SetUserRolesRequest(user_id=target, roles=[2]), metadata=bearer(tokens.access_token)
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_roles_change_and_take_effect_on_the_next_token(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    target, email, _ = await new_user(identity)
    changed = await identity.stub.SetUserRoles(
        svc.SetUserRolesRequest(user_id=target, roles=[2], request_id=str(uuid.uuid4())),
        metadata=bearer(admin.access_token),
    )
    assert sorted(changed.user.roles) == [1, 2]  # USER is always kept
    fresh = await login(identity, email)
    assert jwt.decode(fresh.access_token, options={"verify_signature": False})["roles"] == ["ADMIN", "USER"]
    # A plain admin may not change roles.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.SetUserRoles(
            svc.SetUserRolesRequest(user_id=target, roles=[1]), metadata=bearer(fresh.access_token)
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_super_admin_cannot_demote_themselves(identity: Identity) -> None:
    admin_id, admin = await new_super_admin(identity)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.SetUserRoles(
            svc.SetUserRolesRequest(user_id=admin_id, roles=[2]), metadata=bearer(admin.access_token)
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_freeze_blocks_login_and_kills_sessions_until_unfrozen(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    target, email, tokens = await new_user(identity)
    frozen = await identity.stub.FreezeUser(
        svc.FreezeUserRequest(user_id=target, reason="suspicious activity"),
        metadata=bearer(admin.access_token),
    )
    assert frozen.user.state == 5  # USER_STATE_FROZEN
    with pytest.raises(grpc.aio.AioRpcError) as refresh:
        await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=tokens.refresh_token))
    assert refresh.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await login(identity, email)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert rich_error(denied.value)[0].reason == "USER_FROZEN"  # type: ignore[union-attr]
    thawed = await identity.stub.UnfreezeUser(
        svc.UnfreezeUserRequest(user_id=target), metadata=bearer(admin.access_token)
    )
    assert thawed.user.state == 1  # back to REGISTERED
    assert (await login(identity, email)).access_token


async def test_jwks_lists_the_signing_key(identity: Identity) -> None:
    body = await identity.stub.GetJwks(svc.GetJwksRequest())
    assert body.content_type == "application/json"
    jwks = json.loads(body.data)
    assert identity.keys.current.kid in [k["kid"] for k in jwks["keys"]]
    assert all("d" not in k for k in jwks["keys"])


async def test_health_serves_overall_and_the_service(identity: Identity) -> None:
    stub = health_pb2_grpc.HealthStub(identity.channel)
    for service in ("", "gx.identity.v1.IdentityService"):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_undefined_roles_are_field_violations_and_errors_carry_the_identity_domain(
    identity: Identity,
) -> None:
    _, admin = await new_super_admin(identity)
    target, _, _ = await new_user(identity)
    # An unknown number is caught by the validation interceptor, UNSPECIFIED by the use case.
    for roles, field in (([2, 99], "roles[1]"), ([2, 0], "roles[1]")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await identity.stub.SetUserRoles(
                svc.SetUserRolesRequest(user_id=target, roles=roles), metadata=bearer(admin.access_token)
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        info, bad = rich_error(err.value)
        assert info is not None and info.domain == "identity.gx"
        assert bad is not None and [v.field for v in bad.field_violations] == [field]
