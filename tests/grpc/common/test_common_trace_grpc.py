"""gRPC test: the server interceptor binds the caller's W3C trace to every log line of the call."""

from __future__ import annotations

import io
import json
import logging

from services.common.logging import JsonFormatter, LogKey
from tests.grpc.common.runtime_harness import Running
from tests.grpc.common.runtime_test_proto import COLOR_RED, EchoRequest

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
