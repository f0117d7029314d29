"""Prometheus gRPC server metrics, and the HTTP endpoint serving /metrics, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar, Self, cast

import grpc
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from services.common.rpc import BehaviorInterceptor, CallInfo, NextStream, NextUnary, outcome_code

_log = logging.getLogger("gx.metrics")
_LABELS = ("grpc_type", "grpc_service", "grpc_method")
# Latency buckets from 1 ms to 10 s: most RPCs are a few ms, logins (Argon2) ~50-100 ms.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PerRegistry:
    """A set of metrics created once per Prometheus registry; subclass and create them in `__init__`.

    A metric name may be registered only once in a registry, and several servers may run in
    one process (tests), so each process part asks `for_registry` instead of constructing.
    """

    # Keyed by the registry object itself, weakly: an id() could be reused by a new registry
    # once an old one is garbage collected, handing it metrics registered elsewhere.
    _instances: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, dict[type, Any]]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create (register) this set's metrics in `registry`."""

    @classmethod
    def for_registry(cls, registry: CollectorRegistry | None = None) -> Self:
        """The set of a registry (the process default when None), created once."""
        registry = registry or REGISTRY
        per_class = PerRegistry._instances.setdefault(registry, {})
        found = per_class.get(cls)
        if found is None:
            found = per_class[cls] = cls(registry)
        return cast(Self, found)


class GrpcServerMetrics(PerRegistry):
    """The go-grpc-prometheus metric family names, so stock dashboards work."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", _LABELS, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by status code.",
            (*_LABELS, "grpc_code"),
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from receiving an RPC to sending its status.",
            _LABELS,
            buckets=_BUCKETS,
            registry=registry,
        )


class MethodMetrics:
    """One method's children of the three families, looked up once instead of on every call
    (`labels()` hashes and locks each time). Created on the method's first call, as before."""

    __slots__ = ("_by_code", "_labels", "_metrics", "handling", "started")

    def __init__(self, metrics: GrpcServerMetrics, info: CallInfo) -> None:
        self._metrics = metrics
        self._labels = (info.kind, info.service, info.method)
        self._by_code: dict[grpc.StatusCode, Any] = {}
        self.started: Any = None
        self.handling: Any = None

    def start(self) -> None:
        """Count a started call."""
        if self.started is None:
            self.started = self._metrics.started.labels(*self._labels)
            self.handling = self._metrics.handling_seconds.labels(*self._labels)
        self.started.inc()

    def finish(self, code: grpc.StatusCode, seconds: float) -> None:
        """Count a handled call by its code and observe its duration (after `start`)."""
        handled = self._by_code.get(code)
        if handled is None:
            handled = self._by_code[code] = self._metrics.handled.labels(*self._labels, code.name)
        handled.inc()
        self.handling.observe(seconds)


class MetricsInterceptor(BehaviorInterceptor):
    """Counts started and handled RPCs and times them."""

    def __init__(self, metrics: GrpcServerMetrics) -> None:
        super().__init__()
        self._m = metrics

    def _start(self, info: CallInfo) -> float:
        self._m.started.labels(info.kind, info.service, info.method).inc()
        return time.perf_counter()

    def _finish(
        self, info: CallInfo, context: grpc.aio.ServicerContext, started: float, error: BaseException | None
    ) -> None:
        code = outcome_code(context, error)
        self._m.handled.labels(info.kind, info.service, info.method, code.name).inc()
        self._m.handling_seconds.labels(info.kind, info.service, info.method).observe(
            time.perf_counter() - started
        )

    async def unary(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        started = self._start(info)
        error: BaseException | None = None
        try:
            return await call_next(request, context)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(info, context, started, error)

    async def stream(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextStream
    ) -> AsyncIterator[Any]:
        started = self._start(info)
        error: BaseException | None = None
        try:
            async for item in call_next(request, context):
                yield item
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(info, context, started, error)


def split_host_port(address: str) -> tuple[str, int]:
    """Split `host:port` (IPv6 hosts in brackets)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


class MetricsHttpServer:
    """A small asyncio HTTP/1.1 server: GET /metrics, /healthz (live), /readyz (ready).

    Kept on its own port so probes and scrapes never queue behind gRPC traffic and are not
    exposed through the edge.
    """

    def __init__(
        self, address: str, ready: Callable[[], bool], registry: CollectorRegistry | None = None
    ) -> None:
        self._host, self._port = split_host_port(address)
        self._ready = ready
        self._registry = registry or REGISTRY
        self._server: asyncio.Server | None = None
        self.port: int | None = None

    async def start(self) -> int:
        """Bind and serve; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5)
            # Drain the headers; nothing in them matters here.
            while True:
                line = await asyncio.wait_for(reader.readline(), timeout=5)
                if line in (b"\r\n", b"\n", b""):
                    break
            parts = request_line.decode("latin-1").split()
            method, path = (parts[0], parts[1].split("?", 1)[0]) if len(parts) >= 2 else ("", "")
            status, ctype, body = self._route(method, path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + (body if method != "HEAD" else b""))
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            _log.exception("metrics endpoint failed")
        finally:
            writer.close()

    def _route(self, method: str, path: str) -> tuple[str, str, bytes]:
        text = "text/plain; charset=utf-8"
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", text, b"method not allowed\n"
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        if path == "/healthz":
            return "200 OK", text, b"ok\n"
        if path == "/readyz":
            if self._ready():
                return "200 OK", text, b"ready\n"
            return "503 Service Unavailable", text, b"not ready\n"
        return "404 Not Found", text, b"not found\n"
