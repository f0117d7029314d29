"""Unit tests of picking one trace's lines out of several process logs (`gx dev logs --trace`)."""

from __future__ import annotations

import json
from pathlib import Path

from gx_cli.trace_logs import trace_id_of, trace_lines

TRACE = "0123456789abcdef0123456789abcdef"
OTHER = "f" * 32


def _write(path: Path, *lines: object) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_lines_of_one_trace_come_from_every_log_in_time_order(tmp_path: Path) -> None:
    wallet = _write(
        tmp_path / "wallet.log",
        {"time": "2026-12-06T05:00:00.100+00:00", "trace_id": TRACE, "message": "rpc finished"},
        {"time": "2026-12-06T05:00:00.150+00:00", "trace_id": OTHER, "message": f"mentions {TRACE}"},
        "Traceback (most recent call last): " + TRACE,  # not JSON: skipped
    )
    outbox = _write(
        tmp_path / "outbox.log",
        {"time": "2026-12-06T05:00:00.120+00:00", "trace_id": TRACE, "message": "committed"},
    )
    edge = _write(
        tmp_path / "edge.log",
        {
            "time": "2026-12-06T05:00:00.090Z",
            "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
            "path": "/v1/x",
        },
    )
    found = trace_lines([wallet, outbox, edge], TRACE)
    assert [(line.part, json.loads(line.text).get("message")) for line in found] == [
        ("edge", None),
        ("wallet", "rpc finished"),
        ("outbox", "committed"),
    ]
    assert trace_lines([wallet, outbox], "a" * 32) == []


def test_a_trace_id_or_a_traceparent_names_the_trace() -> None:
    assert trace_id_of(TRACE.upper()) == TRACE
    assert trace_id_of(f" 00-{TRACE}-00f067aa0ba902b7-01 ") == TRACE
    assert trace_id_of("not-a-trace") is None and trace_id_of(TRACE[:-1]) is None
