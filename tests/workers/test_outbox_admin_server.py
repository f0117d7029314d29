"""The outbox worker's admin gRPC server: served by the runtime factory, admins only, with health."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from gx.identity.v1 import identity_service_pb2 as identity_svc
from gx.ledger.v1 import commands_pb2
from gx.ops.v1 import outbox_service_pb2, outbox_service_pb2_grpc
from gx.type.v1 import operation_pb2
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from outbox import admin_server
from outbox.settings import OutboxSettings
from services.common.redis import open_redis
from services.common.settings import RedisSettings
from tests.grpc.identity.identity_harness import bearer, login, new_super_admin, new_user, running_identity
from tests.workers.conftest import record


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    async with open_redis(RedisSettings(url=redis_url)) as client:
        yield client


async def test_admin_rpcs_need_a_token_and_health_serves_the_service(
    engine: AsyncEngine, migrated_url: str, redis: Redis
) -> None:
    settings = OutboxSettings(listen="127.0.0.1:0", metrics_listen="", database={"url": migrated_url})
    server = await admin_server.start(settings, engine, redis)
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = outbox_service_pb2_grpc.OutboxAdminServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ListOutboxCommands(outbox_service_pb2.ListOutboxCommandsRequest(), timeout=5)
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
            health = health_pb2_grpc.HealthStub(channel)
            reply = await health.Check(
                health_pb2.HealthCheckRequest(service="gx.ops.v1.OutboxAdminService"), timeout=5
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await server.stop(0)


async def test_an_admin_lists_retries_and_cancels_over_grpc(
    engine: AsyncEngine,
    migrated_url: str,
    redis_url: str,
    redis: Redis,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A real identity server signs the admin's token; the outbox server fetches its JWKS like any service.
    async with running_identity(migrated_url, redis_url, Path(tmp_path_factory.mktemp("keys"))) as identity:
        _, admin = await new_super_admin(identity)
        _, _, user = await new_user(identity, "plain")
        settings = OutboxSettings(
            listen="127.0.0.1:0",
            metrics_listen="",
            database={"url": migrated_url},
            auth={"jwks_target": identity.address},
        )
        server = await admin_server.start(settings, engine, redis)
        try:
            async with grpc.aio.insecure_channel(server.address) as channel:
                stub = outbox_service_pb2_grpc.OutboxAdminServiceStub(channel)
                as_admin = bearer(admin.access_token)
                cid = await record(
                    engine,
                    "BOOTSTRAP_SYSTEM",
                    commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4())),
                )
                with pytest.raises(grpc.aio.AioRpcError) as denied:
                    await stub.ListOutboxCommands(
                        outbox_service_pb2.ListOutboxCommandsRequest(), metadata=bearer(user.access_token)
                    )
                assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
                listed = await stub.ListOutboxCommands(
                    outbox_service_pb2.ListOutboxCommandsRequest(
                        status=operation_pb2.OPERATION_STATE_PENDING
                    ),
                    metadata=as_admin,
                )
                assert str(cid) in [c.command_id for c in listed.commands]
                with pytest.raises(grpc.aio.AioRpcError) as invalid:
                    await stub.GetOutboxCommand(
                        outbox_service_pb2.GetOutboxCommandRequest(command_id="nope"), metadata=as_admin
                    )
                assert invalid.value.code() is grpc.StatusCode.INVALID_ARGUMENT
                cancelled = await stub.CancelOutboxCommand(
                    outbox_service_pb2.CancelOutboxCommandRequest(
                        command_id=str(cid), request_id=str(uuid.uuid4()), reason="test"
                    ),
                    metadata=as_admin,
                )
                assert (cancelled.command.status, cancelled.command.error_code) == (
                    operation_pb2.OPERATION_STATE_FAILED,
                    "CANCELLED",
                )
                retried = await stub.RetryOutboxCommand(
                    outbox_service_pb2.RetryOutboxCommandRequest(
                        command_id=str(cid), request_id=str(uuid.uuid4())
                    ),
                    metadata=as_admin,
                )
                assert retried.command.retry_of_command_id == str(cid)
                assert retried.operation.name == f"operations/{retried.command.command_id}"
                # The retry keeps the original's ordering keys; a command recorded after it on
                # the same key (system) names it as the one it waits for.
                assert (list(retried.command.exclusive_keys), list(retried.command.shared_keys)) == (
                    ["system"],
                    [],
                )
                later = await record(
                    engine, "PAUSE_SYSTEM", commands_pb2.PauseSystemRequest(request_id=str(uuid.uuid4()))
                )
                shown = (
                    await stub.GetOutboxCommand(
                        outbox_service_pb2.GetOutboxCommandRequest(command_id=str(later)), metadata=as_admin
                    )
                ).command
                assert (
                    shown.blocked_by_command_id == retried.command.command_id
                    and not shown.depends_on_command_id
                )
                again = await stub.CancelOutboxCommand(
                    outbox_service_pb2.CancelOutboxCommandRequest(
                        command_id=str(cid), request_id=str(uuid.uuid4())
                    ),
                    metadata=as_admin,
                )
                assert again.command.error_code == "CANCELLED"  # cancelling twice answers the same
                with pytest.raises(grpc.aio.AioRpcError) as precondition:
                    await stub.RetryOutboxCommand(
                        outbox_service_pb2.RetryOutboxCommandRequest(
                            command_id=retried.command.command_id, request_id=str(uuid.uuid4())
                        ),
                        metadata=as_admin,
                    )
                assert precondition.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        finally:
            await server.stop(0)


async def test_an_operator_whose_admin_role_is_taken_away_is_refused_at_once(
    engine: AsyncEngine,
    migrated_url: str,
    redis_url: str,
    redis: Redis,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The worker's admin API checks the same revocation deny-list as the services: the demoted
    # operator's still-unexpired token must stop working, not live on for its 15 minutes.
    async with running_identity(migrated_url, redis_url, Path(tmp_path_factory.mktemp("keys"))) as identity:
        _, root = await new_super_admin(identity)
        operator_id, email, _ = await new_user(identity, "operator")
        await identity.stub.SetUserRoles(
            identity_svc.SetUserRolesRequest(user_id=operator_id, roles=[2], request_id=str(uuid.uuid4())),
            metadata=bearer(root.access_token),
        )
        operator = await login(identity, email)
        settings = OutboxSettings(
            listen="127.0.0.1:0",
            metrics_listen="",
            database={"url": migrated_url},
            auth={"jwks_target": identity.address},
        )
        server = await admin_server.start(settings, engine, redis)
        try:
            async with grpc.aio.insecure_channel(server.address) as channel:
                stub = outbox_service_pb2_grpc.OutboxAdminServiceStub(channel)
                request = outbox_service_pb2.ListOutboxCommandsRequest()
                await stub.ListOutboxCommands(request, metadata=bearer(operator.access_token))  # an admin now
                await identity.stub.SetUserRoles(
                    identity_svc.SetUserRolesRequest(
                        user_id=operator_id, roles=[1], request_id=str(uuid.uuid4())
                    ),
                    metadata=bearer(root.access_token),
                )
                # The deny-list cache is at most 1 s old; poll (bounded) for the refusal.
                code = grpc.StatusCode.OK
                for _ in range(40):
                    try:
                        await stub.ListOutboxCommands(request, metadata=bearer(operator.access_token))
                    except grpc.aio.AioRpcError as refused:
                        code = refused.code()
                        break
                    await asyncio.sleep(0.1)
                assert code is grpc.StatusCode.UNAUTHENTICATED
        finally:
            await server.stop(0)
