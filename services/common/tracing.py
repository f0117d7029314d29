"""OpenTelemetry span export over OTLP, switched on by the standard OTEL_* variables and off by default.

Off (the default), a span is only the W3C trace context the logs carry (services.common.logging).
On, each span is also a real OpenTelemetry span exported over OTLP/gRPC, and its ids are the ones
the log lines carry, so a trace in a tracing backend and `gx dev logs --trace ID` name the same ids.

On when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set, unless
`OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER` names no `otlp` exporter. Everything else
(headers, timeout, TLS, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, batching) is read by the
SDK from the same standard variables.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.common.logging import TraceContext, continue_trace, parse_traceparent

if TYPE_CHECKING:  # the SDK is imported only when export is on
    from opentelemetry.sdk.trace import TracerProvider

_provider: TracerProvider | None = None


def export_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the OTEL_* variables ask for OTLP trace export."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = {e.strip().lower() for e in env.get("OTEL_TRACES_EXPORTER", "otlp").split(",")}
    if "otlp" not in exporters:
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_tracing(service: str, environ: Mapping[str, str] | None = None) -> bool:
    """Start exporting spans when the environment asks for it; call once from `main()`.

    Returns:
        Whether export is on.
    """
    global _provider
    if not export_enabled(environ):
        return False
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, which win over ours.
    provider = TracerProvider(resource=Resource.create({"service.name": service}).merge(Resource.create()))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _provider = provider
    atexit.register(shutdown_tracing)  # the batch still buffered at exit is sent, not lost
    return True


def shutdown_tracing() -> None:
    """Flush what is buffered and stop exporting (at process exit)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None


def exporting() -> bool:
    """Whether spans are exported (`configure_tracing` turned export on)."""
    return _provider is not None


@dataclass
class Span:
    """One unit of work in a trace: `trace` is what the logs bind; `end()` closes it (and exports it)."""

    trace: TraceContext
    _otel: Any = None

    def end(self, error: BaseException | None = None) -> None:
        if self._otel is None:
            return
        if error is not None:
            from opentelemetry.trace import Status, StatusCode

            self._otel.set_status(Status(StatusCode.ERROR, type(error).__name__))
        self._otel.end()


def start_span(name: str, traceparent: str | None, *, kind: str = "internal", **attributes: str) -> Span:
    """A span continuing the trace `traceparent` names (a new trace without a valid one).

    Args:
        name: the span's name (an RPC's full method, `outbox.process`, ...).
        traceparent: the parent's W3C header, or None.
        kind: "server", "consumer" or "internal".
        attributes: span attributes (exported only).
    """
    if _provider is None:
        return Span(continue_trace(traceparent))
    from opentelemetry import trace as otel

    parent = parse_traceparent(traceparent)
    context = None
    if parent is not None:
        remote = otel.SpanContext(
            trace_id=int(parent.trace_id, 16),
            span_id=int(parent.span_id, 16),
            is_remote=True,
            trace_flags=otel.TraceFlags(parent.flags),
        )
        context = otel.set_span_in_context(otel.NonRecordingSpan(remote))
    span = _provider.get_tracer("gx").start_span(
        name, context=context, kind=getattr(otel.SpanKind, kind.upper()), attributes=attributes
    )
    ids = span.get_span_context()
    return Span(TraceContext(f"{ids.trace_id:032x}", f"{ids.span_id:016x}", int(ids.trace_flags)), span)
