"""The request-context, error-mapping and validation interceptors of every GX server."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, Final

import grpc
from google.protobuf import descriptor as _d
from google.protobuf.message import Message

from services.common import errors, idempotency, tracing, validation
from services.common.auth import AuthInterceptor, reset_principal, set_principal
from services.common.logging import (
    LogKey,
    continue_trace,
    log_fields,
    method_var,
    new_request_id,
    request_id_var,
    trace_var,
    user_id_var,
)
from services.common.metrics import GrpcServerMetrics, MethodMetrics, MetricsInterceptor
from services.common.rpc import (
    BehaviorInterceptor,
    CallInfo,
    NextStream,
    NextUnary,
    call_info,
    call_unary,
    hold_metadata,
    metadata_value,
    outcome_code,
    release_metadata,
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


def _log_finished(
    level: int, code: grpc.StatusCode, seconds: float, context: grpc.aio.ServicerContext
) -> None:
    """The one structured line per call (at INFO; probes' and the edge's calls at DEBUG)."""
    if _log.isEnabledFor(level):
        log_fields(
            _log,
            level,
            "rpc finished",
            {
                LogKey.CODE: code.name,
                LogKey.DURATION_MS: round(seconds * 1000, 3),
                LogKey.PEER: context.peer(),
            },
        )


class RequestContextInterceptor(BehaviorInterceptor):
    """Outermost: sets the request id, the W3C trace and the method for logs, and logs one line per call.

    The trace comes from the `traceparent` metadata (the edge forwards the HTTP header as is);
    without a valid one this process starts the trace, so every call has a `trace_id`.
    """

    def _enter(
        self, info: CallInfo, context: grpc.aio.ServicerContext
    ) -> tuple[Any, Any, Any, tracing.Span | None]:
        given = metadata_value(context, "x-request-id")
        rid = given if given and _REQUEST_ID_OK.fullmatch(given) else new_request_id()
        traceparent = metadata_value(context, "traceparent")
        if tracing.exporting():
            exported = tracing.start_span(info.full_method, traceparent, kind="server")
            span: tracing.Span | None = exported
            trace = exported.trace
        else:
            # Nothing to export: the call's trace context is all the logs need, without a Span
            # around it to end (start_span and end cost about a fifth more than the context).
            span, trace = None, continue_trace(traceparent)
        return request_id_var.set(rid), method_var.set(info.full_method), trace_var.set(trace), span

    @staticmethod
    def _end_span(tokens: tuple[Any, Any, Any, tracing.Span | None], error: BaseException | None) -> None:
        if tokens[3] is not None:
            tokens[3].end(error)

    @staticmethod
    def _leave(tokens: tuple[Any, Any, Any, tracing.Span | None]) -> None:
        trace_var.reset(tokens[2])
        method_var.reset(tokens[1])
        request_id_var.reset(tokens[0])

    def _done(
        self, info: CallInfo, context: grpc.aio.ServicerContext, started: float, error: BaseException | None
    ) -> None:
        level = logging.DEBUG if info.service in _QUIET_SERVICES else logging.INFO
        _log_finished(level, outcome_code(context, error), time.perf_counter() - started, context)

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
            self._end_span(tokens, error)
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
            self._end_span(tokens, error)
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


class _Method:
    """What one method's calls need, worked out once: its info, its metrics children, its log
    level, and (on its first call) which request checks its message type needs."""

    __slots__ = ("info", "key", "level", "metrics", "rules", "typed")

    def __init__(self, info: CallInfo, metrics: MethodMetrics) -> None:
        self.info = info
        self.metrics = metrics
        self.level = logging.DEBUG if info.service in _QUIET_SERVICES else logging.INFO
        self.typed = False  # `key` and `rules` below are known
        self.key = False  # the request has a string `request_id` the idempotency key may fill
        self.rules = False  # the request type has a validation rule somewhere

    def learn(self, request: Any) -> None:
        if isinstance(request, Message):
            desc = request.DESCRIPTOR
            field = desc.fields_by_name.get("request_id")
            self.key = (
                field is not None
                and field.type == _d.FieldDescriptor.TYPE_STRING
                and field.label != _d.FieldDescriptor.LABEL_REPEATED
            )
            self.rules = validation.governs(desc) and validation.plan_for(desc).has_rules
        self.typed = True


class ServerCalls:
    """The per-call path of every GX server, applied to each handler once, when it is registered.

    The layers are the interceptors above, in this order: request context and its log line,
    metrics, error mapping, authentication and authorisation, validation, then the service's own
    `extras` (innermost). A unary call runs them all in ONE coroutine (`_unary`), not one awaited
    frame per layer and a grpc interceptor hop each: the same steps in the same order, with what
    depends only on the method (its CallInfo, its metrics children, its log level, whether its
    request type has a `request_id` or any validation rule) decided once. Streaming calls are
    rare and keep the layered wrapping.
    """

    def __init__(
        self,
        domain: str,
        metrics: GrpcServerMetrics,
        auth: AuthInterceptor,
        extras: Sequence[BehaviorInterceptor] = (),
    ) -> None:
        self._context = RequestContextInterceptor()
        self._errors = ErrorInterceptor(domain)
        self._metrics = metrics
        self._auth = auth
        self._extras = tuple(extras)
        self._layers: tuple[BehaviorInterceptor, ...] = (
            self._context,
            MetricsInterceptor(metrics),
            self._errors,
            auth,
            ValidationInterceptor(),
            *self._extras,
        )

    def wrap(self, full_method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """`handler` with every layer around it (rpc.WrappingServer calls this at registration)."""
        info = call_info(full_method, handler)
        if handler.request_streaming or handler.response_streaming:
            for layer in reversed(self._layers):
                handler = layer.wrap(info, handler)
            return handler
        inner = handler.unary_unary
        call_next: NextUnary = (
            inner if inspect.iscoroutinefunction(inner) else functools.partial(call_unary, inner)
        )
        for extra in reversed(self._extras):
            call_next = _layer(extra, info, call_next)
        method = _Method(info, MethodMetrics(self._metrics, info))
        run = self._unary

        async def behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return await run(method, request, context, call_next)

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    async def _unary(
        self, method: _Method, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        info = method.info
        held = hold_metadata(context)
        tokens = self._context._enter(info, context)
        method.metrics.start()
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            try:
                principal = await self._auth.principal_for(info, context)
                principal_token = set_principal(principal)
                user_token = user_id_var.set(principal.user_id if principal is not None else None)
                try:
                    if not method.typed:
                        method.learn(request)
                    if method.key and not request.request_id:
                        apply_idempotency_key(request, context)
                    if method.rules:
                        validation.validate(request)
                    return await call_next(request, context)
                finally:
                    user_id_var.reset(user_token)
                    reset_principal(principal_token)
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await self._errors._abort(context, exc)
        except BaseException as exc:
            error = exc
            raise
        finally:
            elapsed = time.perf_counter() - started
            code = outcome_code(context, error)
            method.metrics.finish(code, elapsed)
            _log_finished(method.level, code, elapsed, context)
            if tokens[3] is not None:
                tokens[3].end(error)
            self._context._leave(tokens)
            release_metadata(held)


def _layer(layer: BehaviorInterceptor, info: CallInfo, call_next: NextUnary) -> NextUnary:
    def call(request: Any, context: grpc.aio.ServicerContext) -> Awaitable[Any]:
        return layer.unary(info, request, context, call_next)

    return call
