"""gRPC test: the server interceptor binds the caller's W3C trace to every log line of the call."""

from __future__ import annotations

import io
import json
import logging

from cryptography.hazmat.primitives.asymmetric import ec

from services.common.logging import JsonFormatter, LogKey, TraceContext, trace_var
from services.common.service_auth import ServiceTokenSource, audience_of, service_channel
from tests.grpc.common.runtime_harness import Running
from tests.grpc.common.runtime_test_proto import COLOR_RED, SERVICE, EchoRequest, EchoResponse

TRACE = "0af7651916cd43dd8448eb211c80319c"
VALID = {"email": "a@example.com", "color": COLOR_RED}


async def _rpc_lines(running: Running, metadata: list[tuple[str, str]]) -> list[dict[str, object]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    log = logging.getLogger("gx.rpc")
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        await running.call("PublicEcho")(EchoRequest(**VALID), metadata=metadata)
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line[LogKey.MESSAGE] == "rpc finished"]


async def test_the_callers_traceparent_is_on_the_calls_log_line(running: Running) -> None:
    (line,) = await _rpc_lines(running, [("traceparent", f"00-{TRACE}-b7ad6b7169203331-01")])
    assert line[LogKey.TRACE_ID] == TRACE
    assert line[LogKey.SPAN_ID] != "b7ad6b7169203331"  # this server's own span of the trace


async def test_a_call_without_a_traceparent_gets_a_new_trace(running: Running) -> None:
    (first,) = await _rpc_lines(running, [])
    (second,) = await _rpc_lines(running, [("traceparent", "00-not-a-trace")])
    assert len(str(first[LogKey.TRACE_ID])) == 32 and len(str(second[LogKey.TRACE_ID])) == 32
    assert first[LogKey.TRACE_ID] != second[LogKey.TRACE_ID]


async def test_a_service_to_service_call_carries_the_serving_calls_trace(running: Running) -> None:
    source = ServiceTokenSource("licensing", ec.generate_private_key(ec.SECP256R1()), audience_of("test"))
    channel = service_channel(running.gx.address, source)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    log = logging.getLogger("gx.rpc")
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    token = trace_var.set(TraceContext(TRACE, "c0ffee00c0ffee00"))
    try:
        call = channel.unary_unary(
            f"/{SERVICE}/PublicEcho",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoResponse.FromString,
        )
        # A traceparent the caller put on the call itself is replaced by the current one.
        await call(EchoRequest(**VALID), metadata=[("traceparent", f"00-{'1' * 32}-{'2' * 16}-01")])
    finally:
        trace_var.reset(token)
        log.removeHandler(handler)
        log.setLevel(old_level)
        await channel.close()
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines() if "rpc finished" in x]
    assert line[LogKey.TRACE_ID] == TRACE and line[LogKey.SPAN_ID] != "c0ffee00c0ffee00"
