"""Revocation through real servers: identity's own door and the wallet's, sharing one Redis.

Freezing, changing roles and logging out end access tokens within the deny-list's cache age
(1 s); the tests poll with a bound of 2 s, the requirement, and never time anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import access_pb2
from gx.wallet.v1 import wallet_service_pb2, wallet_service_pb2_grpc

from services.common.db import open_database
from services.common.redis import open_redis
from services.wallet.server import create_wallet_server
from services.wallet.settings import WalletSettings
from tests.grpc.identity.identity_harness import (
    Identity,
    bearer,
    login,
    new_super_admin,
    new_user,
    rich_error,
    running_identity,
)

_BOUND_SECONDS = 2.0


@contextlib.asynccontextmanager
async def _wallet(
    identity: Identity, redis_url: str
) -> AsyncIterator[wallet_service_pb2_grpc.WalletServiceStub]:
    """The real wallet server, verifying tokens with identity's JWKS like in production."""
    settings = WalletSettings(
        listen="127.0.0.1:0",
        database={"url": identity.settings.database.url.get_secret_value()},
        redis={"url": redis_url},
        auth={"jwks_target": identity.address},
    )
    async with open_database(settings.database) as (engine, sessions), open_redis(settings.redis) as redis:
        server = create_wallet_server(settings, engine, sessions, redis)
        await server.start()
        try:
            async with grpc.aio.insecure_channel(server.address) as channel:
                yield wallet_service_pb2_grpc.WalletServiceStub(channel)
        finally:
            await server.stop(0)


async def _refused_within_bound(call: Callable[[], Awaitable[object]]) -> grpc.aio.AioRpcError:
    """Polls `call` until it fails UNAUTHENTICATED, for at most the 2 s the requirement allows."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _BOUND_SECONDS
    while True:
        try:
            await call()
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.UNAUTHENTICATED:
                return err
            if err.code() not in (grpc.StatusCode.NOT_FOUND,):
                raise
        if loop.time() >= deadline:
            pytest.fail(f"the token still worked after {_BOUND_SECONDS} s")
        await asyncio.sleep(0.05)


async def test_a_frozen_users_token_is_refused_by_identity_and_by_the_wallet(
    identity: Identity, redis_url: str
) -> None:
    _, admin = await new_super_admin(identity)
    user_id, email, tokens = await new_user(identity, "frozen")
    async with _wallet(identity, redis_url) as wallet:
        get_wallet = lambda: wallet.GetWallet(  # noqa: E731
            wallet_service_pb2.GetWalletRequest(wallet_id="me"), metadata=bearer(tokens.access_token)
        )
        with pytest.raises(grpc.aio.AioRpcError) as before:
            await get_wallet()
        assert before.value.code() == grpc.StatusCode.NOT_FOUND  # authenticated; no wallet yet
        await identity.stub.FreezeUser(
            svc.FreezeUserRequest(user_id=user_id, reason="investigation"),
            metadata=bearer(admin.access_token),
        )
        for call in (
            get_wallet,
            lambda: identity.stub.GetUser(
                svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token)
            ),
            lambda: identity.stub.UpdateUser(
                svc.UpdateUserRequest(user=identity_pb2.User(user_id="me", display_name="still here")),
                metadata=bearer(tokens.access_token),
            ),
        ):
            err = await _refused_within_bound(call)
            assert rich_error(err)[0].reason == "TOKEN_REVOKED"  # type: ignore[union-attr]
        # Unfrozen and logged in again: the new token works at once, in both services.
        await identity.stub.UnfreezeUser(
            svc.UnfreezeUserRequest(user_id=user_id), metadata=bearer(admin.access_token)
        )
        fresh = await login(identity, email)
        me = await identity.stub.GetUser(
            svc.GetUserRequest(user_id="me"), metadata=bearer(fresh.access_token)
        )
        assert me.user.user_id == user_id
        with pytest.raises(grpc.aio.AioRpcError) as after:
            await wallet.GetWallet(
                wallet_service_pb2.GetWalletRequest(wallet_id="me"), metadata=bearer(fresh.access_token)
            )
        assert after.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_demoted_admins_old_token_cannot_use_the_role_it_lost(identity: Identity) -> None:
    _, root = await new_super_admin(identity)
    admin_id, admin_email, _ = await new_user(identity, "demoted")
    await identity.stub.SetUserRoles(
        svc.SetUserRolesRequest(user_id=admin_id, roles=[access_pb2.ROLE_ADMIN]),
        metadata=bearer(root.access_token),
    )
    as_admin = await login(identity, admin_email)
    target_id, _, _ = await new_user(identity, "target")
    await identity.stub.ListKycSubmissions(
        svc.ListKycSubmissionsRequest(), metadata=bearer(as_admin.access_token)
    )
    # The super-admin takes ADMIN away; the token that still says ADMIN stops working.
    await identity.stub.SetUserRoles(
        svc.SetUserRolesRequest(user_id=admin_id, roles=[access_pb2.ROLE_USER]),
        metadata=bearer(root.access_token),
    )
    err = await _refused_within_bound(
        lambda: identity.stub.FreezeUser(
            svc.FreezeUserRequest(user_id=target_id, reason="x"), metadata=bearer(as_admin.access_token)
        )
    )
    assert rich_error(err)[0].reason == "TOKEN_REVOKED"  # type: ignore[union-attr]
    # Logged in again they are a plain user: one role too low for the admin RPCs.
    plain = await login(identity, admin_email)
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await identity.stub.FreezeUser(
            svc.FreezeUserRequest(user_id=target_id, reason="x"), metadata=bearer(plain.access_token)
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert rich_error(denied.value)[0].reason == "ROLE_REQUIRED"  # type: ignore[union-attr]


async def test_an_admin_is_one_role_too_low_to_set_roles(identity: Identity) -> None:
    _, root = await new_super_admin(identity)
    admin_id, admin_email, _ = await new_user(identity, "admin")
    await identity.stub.SetUserRoles(
        svc.SetUserRolesRequest(user_id=admin_id, roles=[access_pb2.ROLE_ADMIN]),
        metadata=bearer(root.access_token),
    )
    as_admin = await login(identity, admin_email)
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await identity.stub.SetUserRoles(
            svc.SetUserRolesRequest(
                user_id=admin_id, roles=[access_pb2.ROLE_ADMIN, access_pb2.ROLE_SUPER_ADMIN]
            ),
            metadata=bearer(as_admin.access_token),
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    info = rich_error(denied.value)[0]
    assert (
        info is not None
        and info.reason == "ROLE_REQUIRED"
        and info.metadata["required_roles"] == "SUPER_ADMIN"
    )


async def test_logout_ends_the_presented_token_and_its_session_but_not_another_session(
    identity: Identity,
) -> None:
    _, email, phone = await new_user(identity, "logout")
    laptop = await login(identity, email)
    await identity.stub.Logout(
        svc.LogoutRequest(refresh_token=phone.refresh_token), metadata=bearer(phone.access_token)
    )
    err = await _refused_within_bound(
        lambda: identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(phone.access_token))
    )
    assert rich_error(err)[0].reason == "TOKEN_REVOKED"  # type: ignore[union-attr]
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(laptop.access_token))
    assert me.user.email == email


async def test_without_redis_writes_fail_closed_and_reads_go_through(
    identity: Identity, database_url: str, tmp_path: Path
) -> None:
    _, _, tokens = await new_user(identity, "outage")
    # A second identity over the same database and keys, whose Redis is unreachable.
    async with running_identity(
        database_url, "redis://127.0.0.1:1/0", identity.settings.identity.keys_dir
    ) as cut_off:
        me = await cut_off.stub.GetUser(
            svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token)
        )
        assert me.user.user_id
        with pytest.raises(grpc.aio.AioRpcError) as closed:
            await cut_off.stub.UpdateUser(
                svc.UpdateUserRequest(user=identity_pb2.User(user_id="me", display_name="x")),
                metadata=bearer(tokens.access_token),
            )
        assert closed.value.code() == grpc.StatusCode.UNAVAILABLE
        info = rich_error(closed.value)[0]
        assert (
            info is not None
            and info.reason == "REVOCATION_CHECK_UNAVAILABLE"
            and info.domain == "identity.gx"
        )
    unchanged = await identity.stub.GetUser(
        svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token)
    )
    assert unchanged.user.display_name != "x"
