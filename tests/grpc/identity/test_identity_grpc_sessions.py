"""Registration, login, refresh rotation and logout over real gRPC."""

from __future__ import annotations

import uuid

import grpc
import jwt
import pytest
from gx.identity.v1 import identity_service_pb2 as svc

from tests.grpc.identity.identity_harness import (
    PASSWORD,
    Identity,
    bearer,
    login,
    new_user,
    register,
    rich_error,
    unique_email,
)


async def test_register_login_profile_refresh_logout(identity: Identity) -> None:
    email = unique_email()
    user = (await register(identity, email, display_name="Ana", country_code="LK")).user
    assert user.email == email and user.display_name == "Ana" and user.country_code == "LK"
    assert user.state == 1  # USER_STATE_REGISTERED
    assert list(user.roles) == [1]  # ROLE_USER

    tokens = await login(identity, email.upper())  # email matching ignores case
    assert tokens.token_type == "Bearer" and tokens.expires_in == 900
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    assert claims["sub"] == user.user_id and claims["roles"] == ["USER"]
    assert claims["iss"] == "gx-identity" and claims["aud"] == "gx-api"
    assert claims["exp"] - claims["iat"] == 900 and claims["jti"]
    assert jwt.get_unverified_header(tokens.access_token)["kid"] == identity.keys.current.kid

    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token))
    assert me.user.user_id == user.user_id

    rotated = await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=tokens.refresh_token))
    assert rotated.refresh_token != tokens.refresh_token
    assert jwt.decode(rotated.access_token, options={"verify_signature": False})["sub"] == user.user_id

    await identity.stub.Logout(svc.LogoutRequest(refresh_token=rotated.refresh_token))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=rotated.refresh_token))
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert rich_error(refused.value)[0].reason == "REFRESH_TOKEN_REVOKED"  # type: ignore[union-attr]
    # Logging out again succeeds: logout is idempotent.
    await identity.stub.Logout(svc.LogoutRequest(refresh_token=rotated.refresh_token))


async def test_reused_refresh_token_revokes_the_whole_family(identity: Identity) -> None:
    _, _, tokens = await new_user(identity)
    second = await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=tokens.refresh_token))
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=tokens.refresh_token))
    assert reused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert rich_error(reused.value)[0].reason == "REFRESH_TOKEN_REUSED"  # type: ignore[union-attr]
    # The legitimate successor dies with the family: the thief and the victim both log in again.
    with pytest.raises(grpc.aio.AioRpcError) as revoked:
        await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=second.refresh_token))
    assert rich_error(revoked.value)[0].reason == "REFRESH_TOKEN_REVOKED"  # type: ignore[union-attr]


async def test_other_sessions_survive_a_logout(identity: Identity) -> None:
    _, email, first = await new_user(identity)
    second = await login(identity, email)
    await identity.stub.Logout(svc.LogoutRequest(refresh_token=first.refresh_token))
    still = await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=second.refresh_token))
    assert still.access_token


async def test_wrong_password_and_unknown_email_fail_identically(identity: Identity) -> None:
    _, email, _ = await new_user(identity)
    failures = []
    for mail, password in ((email, PASSWORD + "x"), (unique_email("ghost"), PASSWORD)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await login(identity, mail, password)
        info, _ = rich_error(err.value)
        failures.append((err.value.code(), err.value.details(), info.reason if info else None))
    assert (
        failures[0]
        == failures[1]
        == (grpc.StatusCode.UNAUTHENTICATED, "wrong email or password", "INVALID_CREDENTIALS")
    )


async def test_duplicate_email_ignoring_case_is_already_exists(identity: Identity) -> None:
    email = unique_email()
    await register(identity, email)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(identity, email.upper())
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert rich_error(err.value)[0].reason == "EMAIL_TAKEN"  # type: ignore[union-attr]


async def test_weak_password_lists_each_broken_rule_against_the_field(identity: Identity) -> None:
    email = unique_email()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(identity, email, password="aaaaaaaaaaaaaaaaaaaa")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, bad = rich_error(err.value)
    assert bad is not None and [v.field for v in bad.field_violations] == ["password"]
    assert "two kinds" in bad.field_violations[0].description
    with pytest.raises(grpc.aio.AioRpcError) as short:
        await register(identity, email, password="Ab1!")
    _, bad = rich_error(short.value)
    assert bad is not None and bad.field_violations[0].field == "password"


async def test_malformed_fields_are_rejected_before_the_handler(identity: Identity) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.RegisterUser(
            svc.RegisterUserRequest(
                email="not-an-email", password=PASSWORD, country_code="lk", request_id="nope"
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, bad = rich_error(err.value)
    assert bad is not None
    assert {v.field for v in bad.field_violations} >= {"email", "country_code", "request_id"}


async def test_unassigned_country_code_is_rejected(identity: Identity) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(identity, country_code="XX")
    _, bad = rich_error(err.value)
    assert bad is not None and [v.field for v in bad.field_violations] == ["country_code"]


async def test_register_replays_the_first_answer_for_the_same_request_id(identity: Identity) -> None:
    request_id = str(uuid.uuid4())
    email = unique_email()
    first = await register(identity, email, request_id=request_id)
    again = await register(identity, email, request_id=request_id)
    assert again.user.user_id == first.user.user_id
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(identity, unique_email(), request_id=request_id)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rich_error(err.value)[0].reason == "REQUEST_ID_REUSED"  # type: ignore[union-attr]


async def test_garbage_refresh_token_is_unauthenticated(identity: Identity) -> None:
    for token in ("gxr_" + "A" * 43, "definitely-not-a-token"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await identity.stub.RefreshToken(svc.RefreshTokenRequest(refresh_token=token))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
