"""The outbox worker's gRPC server: OutboxAdminService with health, reflection, auth and validation."""

from __future__ import annotations

import logging
import uuid

from gx.ops.v1 import outbox_service_pb2_grpc
from gx.type.v1 import operation_pb2
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from outbox.admin import OutboxAdmin
from outbox.servicer import OutboxAdminServicer
from outbox.settings import OutboxSettings
from services.common import db, operations
from services.common.server import GxServer, bind, create_server

_LOG = logging.getLogger(__name__)


async def start(settings: OutboxSettings, engine: AsyncEngine, redis: Redis) -> GxServer:
    """Build the server with the runtime's factory (same interceptors as every GX server) and start it.

    The worker's own probe endpoint serves /metrics, /healthz and /readyz, so the factory's
    is switched off here (one port, one meaning of "ready"). `redis` is only for the access-token
    deny-list (an operator whose admin role was taken away is refused within seconds); it is
    not a readiness check, because moving commands does not need Redis.
    """

    async def operation_of(command_id: str) -> operation_pb2.Operation | None:
        found = await operations.get_operation(engine, uuid.UUID(command_id))
        return None if found is None else found[0]

    servicer = OutboxAdminServicer(OutboxAdmin(engine), operation_of)
    server = create_server(
        settings.model_copy(update={"metrics_listen": ""}),
        [bind(outbox_service_pb2_grpc.add_OutboxAdminServiceServicer_to_server, servicer)],
        {"postgres": lambda: db.check_database(engine)},
        redis=redis,
    )
    await server.start()
    _LOG.info("outbox admin gRPC on %s", server.address)
    return server
