"""Unit tests of W3C traceparent parsing and of trace_id on every log line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from services.common.logging import (
    JsonFormatter,
    LogKey,
    TraceContext,
    continue_trace,
    current_traceparent,
    new_trace,
    parse_traceparent,
    trace_var,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_a_w3c_traceparent_is_parsed_and_written_back_the_same() -> None:
    header = f"00-{TRACE}-{SPAN}-01"
    parsed = parse_traceparent(header)
    assert parsed == TraceContext(TRACE, SPAN, 1)
    assert parsed.traceparent == header
    assert parse_traceparent(f"  00-{TRACE}-{SPAN}-00 ") == TraceContext(TRACE, SPAN, 0)


def test_a_later_version_may_append_fields() -> None:
    assert parse_traceparent(f"01-{TRACE}-{SPAN}-01-what-comes-next") == TraceContext(TRACE, SPAN, 1)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"ff-{TRACE}-{SPAN}-01",  # version ff is invalid
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"00-{TRACE.upper()}-{SPAN}-01",  # upper-case hex
        f"00-{TRACE}-{SPAN}-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE[:-1]}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-1",
    ],
)
def test_a_malformed_traceparent_is_ignored(header: str | None) -> None:
    assert parse_traceparent(header) is None


def test_continuing_a_trace_keeps_its_id_with_a_new_span() -> None:
    child = continue_trace(f"00-{TRACE}-{SPAN}-01")
    assert child.trace_id == TRACE and child.flags == 1
    assert child.span_id != SPAN and len(child.span_id) == 16 and child.span_id.strip("0")
    assert parse_traceparent(child.traceparent) == child


def test_a_missing_or_bad_traceparent_starts_a_new_trace() -> None:
    first, second = continue_trace(None), continue_trace("00-nope")
    for trace in (first, second):
        assert parse_traceparent(trace.traceparent) == trace
    assert first.trace_id != second.trace_id
    assert new_trace().trace_id != new_trace().trace_id


def test_every_log_line_in_a_traced_context_carries_trace_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("wallet"))
    log = logging.getLogger("gx.test.trace")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        log.info("before")
        assert current_traceparent() is None
        token = trace_var.set(TraceContext(TRACE, SPAN))
        try:
            log.info("inside")
            assert current_traceparent() == f"00-{TRACE}-{SPAN}-01"
        finally:
            trace_var.reset(token)
        log.info("after")
    finally:
        log.removeHandler(handler)
    before, inside, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert LogKey.TRACE_ID not in before and LogKey.TRACE_ID not in after
    assert (inside[LogKey.TRACE_ID], inside[LogKey.SPAN_ID]) == (TRACE, SPAN)
