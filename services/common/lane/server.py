"""`UnaryLane`: the lane's listener, its connections, their drain at shutdown, and its metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import grpc
from prometheus_client import Counter, Gauge

from services.common.lane.connection import LaneConnection

_log = logging.getLogger("gx.lane")

# The per-call figures come from the call chain (grpc_server_*); these are the transport's own.
_CONNECTIONS = Counter("gx_lane_connections", "HTTP/2 connections the lane accepted")
_OPEN = Gauge("gx_lane_open_connections", "HTTP/2 connections open on the lane")
_PROTOCOL_ERRORS = Counter(
    "gx_lane_protocol_errors", "Connections the lane closed with GOAWAY for breaking HTTP/2's rules"
)


class UnaryLane:
    """An h2c server for UNARY gRPC calls, running the same wrapped handlers grpc.aio runs.

    Args:
        methods: Full method name (`/pkg.Svc/Method`) -> wrapped handler (`WrappingServer.unary_methods`),
            read at each call. Streaming handlers are answered UNIMPLEMENTED.
        max_message_bytes: A bigger request message is answered RESOURCE_EXHAUSTED.
    """

    def __init__(self, methods: Mapping[str, grpc.RpcMethodHandler], *, max_message_bytes: int) -> None:
        self._methods = methods
        self._max_message = max_message_bytes
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[LaneConnection] = set()

    async def start(self, address: str) -> int:
        """Listen on `host:port` (`[v6]:port`; port 0 picks one); the bound port.

        Raises:
            OSError: The address is taken or unavailable.
        """
        host, _, port = address.rpartition(":")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: LaneConnection(self._methods, self._max_message, self._event),
            host.strip("[]") or None,
            int(port),
            backlog=1024,
        )
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def stop(self, grace: float) -> None:
        """Stop accepting, GOAWAY every connection, let calls in flight finish up to `grace`, close."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.go_away()
        waiting = [connection.closed for connection in connections if not connection.closed.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=grace)
        for connection in connections:
            if not connection.closed.done():
                connection.abort_calls()
        # Let the cancelled calls unwind and the transports report their close.
        waiting = [connection.closed for connection in connections if not connection.closed.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=1.0)

    def _event(self, connection: LaneConnection, event: str) -> None:
        if event == "open":
            self._connections.add(connection)
            _CONNECTIONS.inc()
            _OPEN.inc()
        elif event == "closed":
            if connection in self._connections:
                self._connections.discard(connection)
                _OPEN.dec()
        else:
            _PROTOCOL_ERRORS.inc()
