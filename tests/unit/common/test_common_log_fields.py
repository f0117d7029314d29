"""The per-call line written straight to the JSON handler is the line the logging machinery writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from services.common.logging import (
    JsonFormatter,
    LogKey,
    configure_logging,
    log_fields,
    method_var,
    new_trace,
    request_id_var,
    trace_var,
    user_id_var,
)

_FIELDS = {LogKey.CODE: "OK", LogKey.DURATION_MS: 1.234, LogKey.PEER: "ipv4:127.0.0.1:1"}


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Where the lines go; the test calls `_configure` in its body (pytest adds its own log
    capture to the root logger for each test phase, which `configure_logging` replaces)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    tokens = (
        request_id_var.set("rid-1"),
        method_var.set("/gx.x.v1.S/M"),
        user_id_var.set("user-1"),
        trace_var.set(new_trace()),
    )
    try:
        yield out
    finally:
        trace_var.reset(tokens[3])
        user_id_var.reset(tokens[2])
        method_var.reset(tokens[1])
        request_id_var.reset(tokens[0])
        root.handlers[:] = handlers
        root.setLevel(level)


def _configure(stream: io.StringIO) -> None:
    configure_logging("INFO", "svc", stream=stream)


def _without_time(line: str) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in json.loads(line).items() if k != LogKey.TIME]


def test_the_direct_line_equals_the_formatted_record(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(stream)
    logger = logging.getLogger("gx.test.direct")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler.formatter, JsonFormatter)
    record = logger.makeRecord(
        logger.name, logging.INFO, "", 0, "rpc finished", (), None, extra=dict(_FIELDS)
    )
    expected = handler.formatter.format(record)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("went through Logger.log")

    monkeypatch.setattr(logger, "log", refuse)
    log_fields(logger, logging.INFO, "rpc finished", dict(_FIELDS))
    (line,) = stream.getvalue().splitlines()
    # Same keys in the same order with the same values; only the time differs.
    assert _without_time(line) == _without_time(expected)
    assert json.loads(line)[LogKey.TIME].endswith("+00:00")


def test_any_other_handler_or_filter_gets_a_real_record(stream: io.StringIO) -> None:
    captured: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record)

    _configure(stream)
    logger = logging.getLogger("gx.test.captured")
    extra = Capture()
    logging.getLogger().addHandler(extra)
    try:
        log_fields(logger, logging.INFO, "rpc finished", dict(_FIELDS))
    finally:
        logging.getLogger().removeHandler(extra)
    assert [r.getMessage() for r in captured] == ["rpc finished"]
    assert getattr(captured[0], LogKey.CODE) == "OK"
    (line,) = stream.getvalue().splitlines()  # the JSON handler still wrote it once
    assert json.loads(line)[LogKey.CODE] == "OK"

    filtered = logging.getLogger("gx.test.filtered")
    filtered.addFilter(lambda record: False)
    log_fields(filtered, logging.INFO, "rpc finished", dict(_FIELDS))
    assert len(stream.getvalue().splitlines()) == 1  # the filter still applies
