"""The workers' HTTP probe endpoint: `/metrics` (Prometheus), `/healthz` (alive) and `/readyz` (ready)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LOG = logging.getLogger(__name__)

ReadyCheck = Callable[[], Awaitable[tuple[bool, str]]]


class ProbeServer:
    """A minimal HTTP/1.1 server for probes and scraping, on the worker's own event loop.

    Workers have no HTTP framework and need none: three fixed GET paths, answered and closed.

    Args:
        listen: `host:port` (port 0 picks a free one; see `port` after `start()`).
        ready: returns (ready, detail); `/readyz` answers 503 with the detail when not ready.
        registry: the Prometheus registry to expose.
    """

    def __init__(self, listen: str, ready: ReadyCheck, registry: CollectorRegistry = REGISTRY) -> None:
        host, _, port = listen.rpartition(":")
        self._host = host or "127.0.0.1"
        self._port = int(port)
        self._ready = ready
        self._registry = registry
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> None:
        """Bind and serve in the background."""
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]
        _LOG.info("probes on http://%s:%d (/metrics /healthz /readyz)", self._host, self.port)

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request_line.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) > 1 else "/"
            status, ctype, body = await self._answer(path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except Exception:  # a probe must never take the worker down
            _LOG.debug("probe request failed", exc_info=True)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, path: str) -> tuple[str, str, bytes]:
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        if path == "/healthz":
            return "200 OK", "text/plain", b"ok\n"
        if path == "/readyz":
            try:
                ok, detail = await asyncio.wait_for(self._ready(), 5)
            except Exception as error:
                ok, detail = False, f"readiness check failed: {error}"
            return ("200 OK" if ok else "503 Service Unavailable"), "text/plain", (detail + "\n").encode()
        return "404 Not Found", "text/plain", b"not found\n"
