"""A new trace's ids come from one random draw: 32 and 16 lowercase hex digits, never all zeros."""

from __future__ import annotations

import random
import re

import pytest

from services.common.logging import new_trace, parse_traceparent


def test_new_traces_are_valid_distinct_and_sampled() -> None:
    traces = [new_trace() for _ in range(2_000)]
    for trace in traces:
        assert re.fullmatch(r"[0-9a-f]{32}", trace.trace_id) and re.fullmatch(r"[0-9a-f]{16}", trace.span_id)
        assert trace.flags == 1 and parse_traceparent(trace.traceparent) == trace
    assert len({t.trace_id for t in traces}) == len(traces) and len({t.span_id for t in traces}) == len(
        traces
    )


@pytest.mark.parametrize(
    ("draws", "expected"),
    [
        # An all-zero span id (low 64 bits) or trace id (high 128 bits) is drawn again.
        ([5 << 64, (7 << 64) | 9], ("0" * 31 + "7", "0" * 15 + "9")),
        ([3, (1 << 191) | 1], ("8" + "0" * 31, "0" * 15 + "1")),
    ],
)
def test_a_draw_with_an_all_zero_id_is_drawn_again(
    monkeypatch: pytest.MonkeyPatch, draws: list[int], expected: tuple[str, str]
) -> None:
    given = iter(draws)
    asked: list[int] = []

    def getrandbits(k: int) -> int:
        asked.append(k)
        return next(given)

    monkeypatch.setattr(random, "getrandbits", getrandbits)  # the module logging draws from
    trace = new_trace()
    assert (trace.trace_id, trace.span_id) == expected and asked == [192, 192]
