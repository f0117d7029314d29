"""OTLP span export: off by default, on with the standard OTEL_* variables; a call's server span reaches
a real OTLP/gRPC collector (an in-process TraceService) with the caller's trace and the logs' ids."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from services.common import tracing
from services.common.logging import JsonFormatter, LogKey
from tests.grpc.common.runtime_harness import Running
from tests.grpc.common.runtime_test_proto import COLOR_RED, EchoRequest

TRACE = "3a1f0c2b4d5e6f708192a3b4c5d6e7f8"
PARENT = "0f1e2d3c4b5a6978"


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """Keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[object] = []

    async def Export(self, request: trace_service_pb2.ExportTraceServiceRequest, context: object) -> object:
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
async def collector() -> AsyncIterator[tuple[Collector, str]]:
    server = grpc.aio.server()
    servicer = Collector()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, f"http://127.0.0.1:{port}"
    finally:
        await server.stop(None)


def test_export_is_off_unless_an_otlp_endpoint_is_set() -> None:
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}
    assert not tracing.export_enabled({})
    assert tracing.export_enabled(endpoint)
    assert tracing.export_enabled({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"})
    assert not tracing.export_enabled({**endpoint, "OTEL_SDK_DISABLED": "true"})
    assert not tracing.export_enabled({**endpoint, "OTEL_TRACES_EXPORTER": "none"})
    assert not tracing.configure_tracing("test", {})
    span = tracing.start_span("off", f"00-{TRACE}-{PARENT}-01")
    assert span.trace.trace_id == TRACE and span.trace.span_id != PARENT
    span.end()  # nothing to export: a no-op


async def test_a_calls_server_span_is_exported_with_the_callers_trace(
    running: Running, collector: tuple[Collector, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    received, endpoint = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "otlp-test")
    assert tracing.configure_tracing("test")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    log = logging.getLogger("gx.rpc")
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        await running.call("PublicEcho")(
            EchoRequest(email="a@example.com", color=COLOR_RED),
            metadata=[("traceparent", f"00-{TRACE}-{PARENT}-01")],
        )
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        # Flushes the batch; off the loop, which serves the collector too.
        await asyncio.to_thread(tracing.shutdown_tracing)
    (span,) = [s for s in received.spans if s.name.endswith("/PublicEcho")]  # type: ignore[attr-defined]
    assert span.trace_id.hex() == TRACE and span.parent_span_id.hex() == PARENT  # type: ignore[attr-defined]
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines() if "rpc finished" in x]
    # The log line names the exported span: one id space for logs and the tracing backend.
    assert (line[LogKey.TRACE_ID], line[LogKey.SPAN_ID]) == (TRACE, span.span_id.hex())  # type: ignore[attr-defined]
