"""The outbox worker's admin gRPC server: served by the runtime factory, admins only, with health."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from gx.ops.v1 import outbox_service_pb2, outbox_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from outbox import admin_server
from outbox.settings import OutboxSettings


async def test_admin_rpcs_need_a_token_and_health_serves_the_service(engine: AsyncEngine, migrated_url: str) -> None:
    settings = OutboxSettings(listen="127.0.0.1:0", metrics_listen="", database={"url": migrated_url})
    server = await admin_server.start(settings, engine)
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
