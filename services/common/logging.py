"""JSON logs, one object a line, carrying the request id and RPC of the current call."""

from __future__ import annotations

import contextvars
import json
import logging
import random
import re
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from json import encoder as _json_encoder
from typing import Any, Final


class LogKey:
    """Every structured log field name, in one place, so dashboards and code agree."""

    TIME: Final = "time"
    LEVEL: Final = "level"
    LOGGER: Final = "logger"
    MESSAGE: Final = "message"
    SERVICE: Final = "service"
    REQUEST_ID: Final = "request_id"
    TRACE_ID: Final = "trace_id"
    SPAN_ID: Final = "span_id"
    METHOD: Final = "grpc.method"
    CODE: Final = "grpc.code"
    DURATION_MS: Final = "duration_ms"
    PEER: Final = "peer"
    USER_ID: Final = "user_id"
    REASON: Final = "error.reason"
    EXCEPTION: Final = "exception"
    ADDRESS: Final = "address"
    METRICS_ADDRESS: Final = "metrics_address"
    EVENT_LOOP: Final = "event_loop"
    CHECK: Final = "health.check"
    STATUS: Final = "health.status"
    COMMAND_ID: Final = "gx.outbox.command_id"
    COMMAND_TYPE: Final = "gx.outbox.command_type"
    IDEMPOTENCY_PURGED: Final = "gx.idempotency.purged"
    OUTBOX_ARCHIVED: Final = "gx.outbox.archived"


request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("gx_request_id", default=None)
method_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("gx_method", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("gx_user_id", default=None)


@dataclass(frozen=True)
class TraceContext:
    """A W3C trace context (https://www.w3.org/TR/trace-context/): the trace, this process's span, the flags.

    Attributes:
        trace_id: 32 lowercase hex digits, never all zeros: what every log line of the request carries.
        span_id: 16 lowercase hex digits, never all zeros: this hop (the parent of the next one).
        flags: the trace-flags byte (bit 0: sampled).
    """

    trace_id: str
    span_id: str
    flags: int = 1

    @property
    def traceparent(self) -> str:
        """The `traceparent` header value naming this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"

    def child(self) -> TraceContext:
        """The same trace with a new span: what a process continuing the trace runs under."""
        return TraceContext(self.trace_id, _random_hex(8), self.flags)


trace_var: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar("gx_trace", default=None)

# version 00: exactly four fields; a higher version may append fields after a dash (the spec's
# forward compatibility), which are ignored. Version ff is invalid.
_TRACEPARENT: Final = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")


# Trace, span and request ids only need to be unique, not secret: they come from the random
# module's generator (as OpenTelemetry's own id generator does), reseeded in a forked child, not
# from a getrandom() system call per id: every call makes three of them.
def _random_hex(nbytes: int) -> str:
    while True:
        value = random.getrandbits(nbytes * 8)
        if value:
            return f"{value:0{nbytes * 2}x}"


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The trace context a `traceparent` header names, or None when absent or malformed.

    Malformed means: not the W3C shape, version ff, an all-zero trace or parent id, or extra
    fields on version 00. The spec says to ignore such a header and start a new trace.
    """
    if not value:
        return None
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or not trace_id.strip("0") or not span_id.strip("0"):
        return None
    return TraceContext(trace_id, span_id, int(flags, 16))


def new_trace() -> TraceContext:
    """A fresh trace (sampled), for work that arrives without a `traceparent`.

    Every call without one starts a trace, so both ids come from one draw of 24 random bytes
    (the trace id the high 16, the span id the low 8; neither may be all zeros).
    """
    while True:
        bits = random.getrandbits(192)
        if bits >> 64 and bits & _SPAN_MASK:
            text = f"{bits:048x}"
            return TraceContext(text[:32], text[32:], 1)


_SPAN_MASK: Final = (1 << 64) - 1


def continue_trace(traceparent: str | None) -> TraceContext:
    """The context this process runs under for a request carrying `traceparent`: the caller's
    trace with a new span, or a new trace when the header is absent or malformed."""
    parent = parse_traceparent(traceparent)
    return parent.child() if parent is not None else new_trace()


def current_traceparent() -> str | None:
    """The `traceparent` of the current context (to store with work done later, or pass on)."""
    trace = trace_var.get()
    return trace.traceparent if trace is not None else None


# LogRecord's own attributes; anything else on a record came from `extra=` and is emitted.
_RECORD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)


def new_request_id() -> str:
    """A fresh request id for calls that arrive without `x-request-id` (a random UUID's 32 hex digits)."""
    bits = random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET
    return f"{bits:032x}"


# The version (4) and variant (RFC 4122) bits of a random UUID, as uuid.uuid4() sets them.
_UUID4_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET: Final = (0x4000 << 64) | (0x8000 << 48)


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _iso_time(created: float) -> str:
    """`datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`, with the text of
    the second formatted once per second instead of once per line."""
    whole = int(created)
    micros = round((created - whole) * 1_000_000)
    if micros >= 1_000_000 or created < 0:
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    if _second[0] != whole:
        _second[1] = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second[0] = whole
    return f"{_second[1]}.{micros // 1000:03d}+00:00"


# The json module's C encoder factory (None without its accelerator); not in its typed interface.
_c_make_encoder: Any = getattr(_json_encoder, "c_make_encoder", None)


def _dumps(out: dict[str, Any]) -> str:
    """`json.dumps(out, default=str, ensure_ascii=False)`, the same text, for the line of every call.

    `json.dumps` with any argument builds a `JSONEncoder` and then its C encoder on every call;
    this builds only the C encoder (with a fresh circular-reference check, as dumps does): about
    a quarter of the cost of a line's encoding (52.7k -> 39.3k instructions under callgrind).
    """
    if _c_make_encoder is None:  # a Python without the json C accelerator
        return json.dumps(out, default=str, ensure_ascii=False)
    encoder = _c_make_encoder({}, str, _json_encoder.encode_basestring, None, ": ", ", ", False, False, True)
    return "".join(encoder(out, 0))


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: fixed keys, context, then `extra=` fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        out = self.head(record.created, record.levelname, record.name, record.getMessage())
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out[LogKey.EXCEPTION] = "".join(traceback.format_exception(*record.exc_info))
        return _dumps(out)

    def head(self, created: float, level: str, logger: str, message: str) -> dict[str, Any]:
        """A line's fixed keys and the current call's context, before its own fields."""
        out: dict[str, Any] = {
            LogKey.TIME: _iso_time(created),
            LogKey.LEVEL: level,
            LogKey.LOGGER: logger,
            LogKey.MESSAGE: message,
            LogKey.SERVICE: self._service,
        }
        for key, var in (
            (LogKey.REQUEST_ID, request_id_var),
            (LogKey.METHOD, method_var),
            (LogKey.USER_ID, user_id_var),
        ):
            value = var.get()
            if value is not None:
                out[key] = value
        trace = trace_var.get()
        if trace is not None:
            out[LogKey.TRACE_ID] = trace.trace_id
            out[LogKey.SPAN_ID] = trace.span_id
        return out


# The handler `configure_logging` installed, while it is the only place lines go.
_direct: list[logging.StreamHandler[Any]] = []


def _plain_path(logger: logging.Logger, root: logging.Logger) -> bool:
    """Whether records of `logger` reach the root untouched: no handler or filter on the way."""
    node: logging.Logger | None = logger
    while node is not None and node is not root:
        if node.handlers or node.filters or not node.propagate:
            return False
        node = node.parent
    return node is root


def log_fields(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    """Log `message` with `fields` (as `extra=`), the same JSON line as `logger.log` would write.

    For the lines written on every call (`rpc finished`): when the records would only reach the
    JSON handler `configure_logging` installed (no other handler or filter anywhere on the way),
    the line is formatted and written straight away, without a LogRecord and the logging
    machinery around it (about half the cost of the line). Otherwise, e.g. under a test's log
    capture, it goes through `logger.log`. Check `logger.isEnabledFor(level)` first.
    """
    root = logging.root
    if _direct and root.handlers == _direct and not root.filters and _plain_path(logger, root):
        handler = _direct[0]
        if not handler.filters and level >= handler.level:
            formatter = handler.formatter
            if isinstance(formatter, JsonFormatter):
                out = formatter.head(time.time(), logging.getLevelName(level), logger.name, message)
                out.update(fields)
                line = _dumps(out)
                handler.acquire()
                try:
                    handler.stream.write(line + handler.terminator)
                    handler.flush()
                except Exception:
                    # As a handler does: a line that cannot be written never fails the call.
                    pass
                finally:
                    handler.release()
                return
    logger.log(level, message, extra=fields)


def configure_logging(level: str = "INFO", service: str = "gx", stream: Any = None) -> None:
    """Send every logger's records to one JSON handler, and spans over OTLP when the OTEL_*
    variables ask for it (services.common.tracing); call once from `main()`.

    Args:
        level: The root level name (`GX_LOG_LEVEL`).
        service: Written into every line as `service`.
        stream: Where lines go (default stderr).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    # A line carries none of the caller's file and line, thread or process (the JSON has no such
    # fields), so records skip working them out: the stack walk alone was a tenth of the cost of
    # the one line logged per RPC (the logging HOWTO's "Optimization" switches).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    _direct[:] = [handler]
    root.setLevel(level.upper())
    # grpc and SQLAlchemy are chatty at INFO and would drown the request lines.
    for noisy in ("sqlalchemy.engine", "grpc._cython", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Every process that logs also exports its spans when OTEL_* asks for it (off by default).
    from services.common.tracing import configure_tracing

    configure_tracing(service)
