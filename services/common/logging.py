"""JSON logs, one object a line, carrying the request id and RPC of the current call."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any, Final


class LogKey:
    """Every structured log field name, in one place, so dashboards and code agree."""

    TIME: Final = "time"
    LEVEL: Final = "level"
    LOGGER: Final = "logger"
    MESSAGE: Final = "message"
    SERVICE: Final = "service"
    REQUEST_ID: Final = "request_id"
    METHOD: Final = "grpc.method"
    CODE: Final = "grpc.code"
    DURATION_MS: Final = "duration_ms"
    PEER: Final = "peer"
    USER_ID: Final = "user_id"
    REASON: Final = "error.reason"
    EXCEPTION: Final = "exception"
    ADDRESS: Final = "address"
    METRICS_ADDRESS: Final = "metrics_address"
    CHECK: Final = "health.check"
    STATUS: Final = "health.status"
    COMMAND_ID: Final = "gx.outbox.command_id"
    COMMAND_TYPE: Final = "gx.outbox.command_type"
    IDEMPOTENCY_PURGED: Final = "gx.idempotency.purged"


request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("gx_request_id", default=None)
method_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("gx_method", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("gx_user_id", default=None)

# LogRecord's own attributes; anything else on a record came from `extra=` and is emitted.
_RECORD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)


def new_request_id() -> str:
    """A fresh request id for calls that arrive without `x-request-id`."""
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: fixed keys, context, then `extra=` fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            LogKey.TIME: datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            LogKey.LEVEL: record.levelname,
            LogKey.LOGGER: record.name,
            LogKey.MESSAGE: record.getMessage(),
            LogKey.SERVICE: self._service,
        }
        for key, var in ((LogKey.REQUEST_ID, request_id_var), (LogKey.METHOD, method_var), (LogKey.USER_ID, user_id_var)):
            value = var.get()
            if value is not None:
                out[key] = value
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out[LogKey.EXCEPTION] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", service: str = "gx", stream: Any = None) -> None:
    """Send every logger's records to one JSON handler; call once from `main()`.

    Args:
        level: The root level name (`GX_LOG_LEVEL`).
        service: Written into every line as `service`.
        stream: Where lines go (default stderr).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # grpc and SQLAlchemy are chatty at INFO and would drown the request lines.
    for noisy in ("sqlalchemy.engine", "grpc._cython", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
