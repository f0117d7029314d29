"""The request-context, error-mapping and validation interceptors of every GX server."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any, Final

import grpc
from google.protobuf import descriptor as _d
from google.protobuf.message import Message

from services.common import errors, idempotency, tracing, validation
from services.common.logging import LogKey, method_var, new_request_id, request_id_var, trace_var
from services.common.rpc import (
    BehaviorInterceptor,
    CallInfo,
    NextStream,
    NextUnary,
    metadata_value,
    outcome_code,
)

_log = logging.getLogger("gx.rpc")
# A caller-chosen request id is echoed into logs, so it must be short and plain.
_REQUEST_ID_OK: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes call these every few seconds; logging each at INFO would bury real traffic. The edge's
# per-request calls (ext_authz, the access-log stream) are logged by Envoy itself, and a line per
# keyed request here would cost more than the decision.
_QUIET_SERVICES: Final = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "envoy.service.auth.v3.Authorization",
        "envoy.service.accesslog.v3.AccessLogService",
    }
)


class RequestContextInterceptor(BehaviorInterceptor):
    """Outermost: sets the request id, the W3C trace and the method for logs, and logs one line per call.

    The trace comes from the `traceparent` metadata (the edge forwards the HTTP header as is);
    without a valid one this process starts the trace, so every call has a `trace_id`.
    """

    def _enter(self, info: CallInfo, context: grpc.aio.ServicerContext) -> tuple[Any, Any, Any, tracing.Span]:
        given = metadata_value(context, "x-request-id")
        rid = given if given and _REQUEST_ID_OK.fullmatch(given) else new_request_id()
        span = tracing.start_span(info.full_method, metadata_value(context, "traceparent"), kind="server")
        return request_id_var.set(rid), method_var.set(info.full_method), trace_var.set(span.trace), span

    @staticmethod
    def _leave(tokens: tuple[Any, Any, Any, tracing.Span]) -> None:
        trace_var.reset(tokens[2])
        method_var.reset(tokens[1])
        request_id_var.reset(tokens[0])

    def _done(
        self, info: CallInfo, context: grpc.aio.ServicerContext, started: float, error: BaseException | None
    ) -> None:
        code = outcome_code(context, error)
        level = logging.DEBUG if info.service in _QUIET_SERVICES else logging.INFO
        if _log.isEnabledFor(level):
            _log.log(
                level,
                "rpc finished",
                extra={
                    LogKey.CODE: code.name,
                    LogKey.DURATION_MS: round((time.perf_counter() - started) * 1000, 3),
                    LogKey.PEER: context.peer(),
                },
            )

    async def unary(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        tokens = self._enter(info, context)
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            return await call_next(request, context)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._done(info, context, started, error)
            tokens[3].end(error)
            self._leave(tokens)

    async def stream(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextStream
    ) -> AsyncIterator[Any]:
        tokens = self._enter(info, context)
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            async for item in call_next(request, context):
                yield item
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._done(info, context, started, error)
            tokens[3].end(error)
            # Async generators may be finalised in another context; resetting there fails.
            try:
                self._leave(tokens)
            except ValueError:
                pass


class ErrorInterceptor(BehaviorInterceptor):
    """Turns `GxError`s into rich statuses, and anything unexpected into a bare INTERNAL."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self._domain = domain

    async def _abort(self, context: grpc.aio.ServicerContext, exc: Exception) -> None:
        if isinstance(exc, errors.GxError):
            _log.info("rpc rejected: %s", exc.message, extra={LogKey.REASON: exc.reason})
            status = errors.to_status_proto(exc, self._domain)
        else:
            # The cause is logged here and never sent: stack traces and SQL are internals.
            _log.error("rpc failed unexpectedly", exc_info=exc)
            status = errors.internal_status_proto(self._domain)
        await context.abort_with_status(errors.to_grpc_status(status))

    async def unary(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        try:
            return await call_next(request, context)
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:
            await self._abort(context, exc)

    async def stream(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextStream
    ) -> AsyncIterator[Any]:
        try:
            async for item in call_next(request, context):
                yield item
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:
            await self._abort(context, exc)


def apply_idempotency_key(request: Message, context: grpc.aio.ServicerContext) -> None:
    """Fill an empty `request_id` from the `idempotency-key` metadata (REST's Idempotency-Key
    header, or its alias X-Idempotency-Key; see idempotency.IDEMPOTENCY_KEY_HEADERS).

    Envoy's transcoder forwards HTTP headers as gRPC metadata, so this one place gives REST
    clients the header while the service only ever reads `request_id`.
    """
    field = request.DESCRIPTOR.fields_by_name.get("request_id")
    if (
        field is None
        or field.type != _d.FieldDescriptor.TYPE_STRING
        or field.label == _d.FieldDescriptor.LABEL_REPEATED
    ):
        return
    if request.request_id:
        return
    key = idempotency.key_from_headers(
        [metadata_value(context, h) for h in idempotency.IDEMPOTENCY_KEY_HEADERS]
    )
    if key:
        request.request_id = key


class ValidationInterceptor(BehaviorInterceptor):
    """Validates every request message from its descriptor before the handler runs."""

    @staticmethod
    def _check(request: Any, context: grpc.aio.ServicerContext) -> None:
        if isinstance(request, Message):
            apply_idempotency_key(request, context)
            validation.validate(request)

    async def _checked(
        self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        async for request in requests:
            self._check(request, context)
            yield request

    async def unary(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        if info.kind == "client_stream":
            return await call_next(self._checked(request, context), context)
        self._check(request, context)
        return await call_next(request, context)

    async def stream(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextStream
    ) -> AsyncIterator[Any]:
        if info.kind == "bidi_stream":
            request = self._checked(request, context)
        else:
            self._check(request, context)
        async for item in call_next(request, context):
            yield item
