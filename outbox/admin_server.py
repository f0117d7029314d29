"""The outbox worker's gRPC server: OutboxAdminService, health and reflection via the runtime's factory."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from gx.ops.v1 import outbox_service_pb2, outbox_service_pb2_grpc

from outbox.admin import OutboxAdmin
from outbox.servicer import OutboxAdminServicer
from outbox.settings import OutboxSettings

_LOG = logging.getLogger(__name__)
SERVICE_NAME = outbox_service_pb2.DESCRIPTOR.services_by_name["OutboxAdminService"].full_name


async def start(settings: OutboxSettings, admin: OutboxAdmin) -> Any:
    """Build and start the server; returns it (call `stop(grace)` on shutdown), or None if unavailable."""
    if importlib.util.find_spec("services.common.server") is None:
        _LOG.warning("services.common.server is not available; the outbox admin gRPC server is not started")
        return None
    from services.common import server as factory

    servicer = OutboxAdminServicer(admin)
    server, port = await factory.create_server(
        settings,
        [(outbox_service_pb2_grpc.add_OutboxAdminServiceServicer_to_server, servicer, SERVICE_NAME)],
    )
    await server.start()
    _LOG.info("outbox admin gRPC on %s (port %d)", settings.listen, port)
    return server
