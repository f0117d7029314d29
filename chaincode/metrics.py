"""Optional Prometheus `/metrics` and `/healthz` for the chaincode process (`GX_CHAINCODE_METRICS_LISTEN`)."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
from collections.abc import Callable, Collection
from typing import Any

log = logging.getLogger("chaincode.metrics")

LISTEN_ENV = "GX_CHAINCODE_METRICS_LISTEN"
# A function name the chaincode does not define is counted under this one label value, so a
# caller cannot grow the label set without bound.
UNKNOWN_FUNCTION = "unknown"


def split_address(address: str) -> tuple[str, int]:
    """`host:port` → (host, port).

    Raises:
        ValueError: Not a `host:port` with a numeric port.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)


def outcome_of(status: int) -> str:
    """The outcome label of a response status: ok, rejected (a 4xx business refusal) or fault."""
    if status < 400:
        return "ok"
    return "rejected" if status < 500 else "fault"


class InvocationMetrics:
    """Invocations by function, outcome and status, and their duration.

    prometheus_client is imported here, only when metrics are enabled, so a chaincode image
    without it still runs.
    """

    def __init__(self, functions: Collection[str]) -> None:
        """Creates the metrics in a registry of their own (with the process collectors).

        Args:
            functions: The chaincode's function names (bare); others count as `unknown`.
        """
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Histogram,
            gc_collector,
            platform_collector,
            process_collector,
        )

        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self._functions = frozenset(functions)
        self.invocations = Counter(
            "gx_chaincode_invocations_total",
            "Chaincode invocations by function and outcome (ok, rejected: a 4xx business refusal, fault: 5xx).",
            ["function", "outcome", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "gx_chaincode_invocation_duration_seconds",
            "Time the chaincode spent on one invocation, state round trips to the peer included.",
            ["function"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )

    def function_label(self, raw: str) -> str:
        """The label for a requested function name: bare (`token:X` → `X`), or `unknown`."""
        name = raw.rpartition(":")[2]
        return name if name in self._functions else UNKNOWN_FUNCTION

    def observe(self, raw_function: str, status: int, seconds: float) -> None:
        """Count one finished invocation."""
        function = self.function_label(raw_function)
        self.invocations.labels(function, outcome_of(status), str(status)).inc()
        self.duration.labels(function).observe(seconds)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def _handler(
    metrics: InvocationMetrics, healthy: Callable[[], bool]
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8")
            elif path == "/healthz":
                ok = healthy()
                self._send(
                    200 if ok else 503, b"ok\n" if ok else b"chaincode server not accepting\n", "text/plain"
                )
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Scrapes every few seconds would drown the chaincode's own log.
            return

    return Handler


def tcp_accepts(address: str, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at `host:port`."""
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class MetricsServer:
    """The HTTP endpoint, on a daemon thread beside the shim's event loop."""

    def __init__(self, listen: str, metrics: InvocationMetrics, healthy: Callable[[], bool]) -> None:
        """Binds `listen` (host:port; port 0 picks a free one) at once, so a taken port fails start-up.

        Raises:
            OSError: The address cannot be bound.
            ValueError: `listen` is not host:port.
        """
        host, port = split_address(listen)
        self._server = http.server.ThreadingHTTPServer((host, port), _handler(metrics, healthy))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="chaincode-metrics", daemon=True
        )

    @property
    def address(self) -> str:
        """Where it listens (host:port)."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}" if isinstance(host, str) else f"{host.decode()}:{port}"

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
