"""What every interceptor shares: per-method call info from descriptors and behavior wrapping."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from gx.type.v1 import access_pb2

NextUnary = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]
NextStream = Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]


@dataclass(frozen=True)
class CallInfo:
    """What the interceptors need to know about one RPC method, computed once per method.

    Attributes:
        full_method: `/package.Service/Method`, as on the wire.
        service: `package.Service`.
        method: `Method`.
        access: The method's `gx.type.v1.access` rule, or None when it declares none (or
            the method is not in the descriptor pool).
        kind: `unary`, `server_stream`, `client_stream` or `bidi_stream`.
    """

    full_method: str
    service: str
    method: str
    access: access_pb2.AccessRule | None
    kind: str


def _kind(request_streaming: bool, response_streaming: bool) -> str:
    if request_streaming:
        return "bidi_stream" if response_streaming else "client_stream"
    return "server_stream" if response_streaming else "unary"


_infos: dict[tuple[str, str], CallInfo] = {}


def call_info(full_method: str, handler: grpc.RpcMethodHandler) -> CallInfo:
    """The cached CallInfo of a method (`/pkg.Svc/Method`)."""
    kind = _kind(handler.request_streaming, handler.response_streaming)
    key = (full_method, kind)
    info = _infos.get(key)
    if info is not None:
        return info
    service, _, method = full_method.lstrip("/").rpartition("/")
    access: access_pb2.AccessRule | None = None
    try:
        desc = descriptor_pool.Default().FindMethodByName(f"{service}.{method}")
    except KeyError:
        desc = None
    if desc is not None:
        options = desc.GetOptions()
        if options.HasExtension(access_pb2.access):
            access = options.Extensions[access_pb2.access]
    info = CallInfo(full_method=full_method, service=service, method=method, access=access, kind=kind)
    _infos[key] = info
    return info


async def call_unary(behavior: Callable[..., Any], request: Any, context: grpc.aio.ServicerContext) -> Any:
    """Run a unary behavior that may be a plain function or a coroutine function."""
    result = behavior(request, context)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _call_stream(
    behavior: Callable[..., Any], request: Any, context: grpc.aio.ServicerContext
) -> AsyncIterator[Any]:
    result = behavior(request, context)
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
    elif inspect.isawaitable(result):
        # A streaming handler may write with context.write() and return nothing.
        await result
    elif result is not None:
        for item in result:
            yield item


class BehaviorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Base for interceptors that run around the handler's behavior.

    grpc.aio's `intercept_service` only sees the method name; code that must see the
    request, the outcome or an exception has to wrap the handler's behavior. Subclasses
    override `unary` (unary responses) and `stream` (streamed responses). Wrapped handlers
    are cached per method, so the wrapping itself costs nothing per call.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def unary(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        """Run around a call with a unary response; `request` is an iterator for client streams."""
        return await call_next(request, context)

    async def stream(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextStream
    ) -> AsyncIterator[Any]:
        """Run around a call with a streamed response."""
        async for item in call_next(request, context):
            yield item

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        cached = self._cache.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self.wrap(call_info(method, handler), handler)
        self._cache[method] = (handler, wrapped)
        return wrapped

    def wrap(self, info: CallInfo, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """The handler with this interceptor's `unary`/`stream` around its behavior."""
        kwargs = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if not handler.response_streaming:
            inner = handler.stream_unary if handler.request_streaming else handler.unary_unary

            async def call_next_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await call_unary(inner, request, context)

            async def unary_behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await self.unary(info, request, context, call_next_unary)

            if handler.request_streaming:
                return grpc.stream_unary_rpc_method_handler(unary_behavior, **kwargs)
            return grpc.unary_unary_rpc_method_handler(unary_behavior, **kwargs)

        inner_stream = handler.stream_stream if handler.request_streaming else handler.unary_stream

        def call_next_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            return _call_stream(inner_stream, request, context)

        async def stream_behavior(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async for item in self.stream(info, request, context, call_next_stream):
                yield item

        if handler.request_streaming:
            return grpc.stream_stream_rpc_method_handler(stream_behavior, **kwargs)
        return grpc.unary_stream_rpc_method_handler(stream_behavior, **kwargs)


# The current call's metadata by key (first value of each), read once by the call chain: grpc.aio
# builds a new tuple of the whole metadata on every `invocation_metadata()` (about 1.5 us), and a
# call asks for five keys or more (request id, traceparent, token, partner token, forwarded-for).
_call_metadata: contextvars.ContextVar[tuple[Any, dict[str, str | bytes]] | None] = contextvars.ContextVar(
    "gx_call_metadata", default=None
)


def hold_metadata(context: grpc.aio.ServicerContext) -> contextvars.Token[Any]:
    """Read the call's metadata once for `metadata_value`; `release_metadata` when the call ends."""
    by_key: dict[str, str | bytes] = {}
    for item in context.invocation_metadata() or ():
        by_key.setdefault(item[0], item[1])
    return _call_metadata.set((context, by_key))


def release_metadata(token: contextvars.Token[Any]) -> None:
    """The call is over: its metadata is no longer held."""
    _call_metadata.reset(token)


def metadata_value(context: grpc.aio.ServicerContext, key: str) -> str | None:
    """The first value of an invocation metadata key (keys are lower case on the wire)."""
    held = _call_metadata.get()
    if held is not None and held[0] is context:
        value = held[1].get(key)
        return value.decode() if isinstance(value, bytes) else value
    for item in context.invocation_metadata() or ():
        if item[0] == key:
            found = item[1]
            return found.decode() if isinstance(found, bytes) else found
    return None


def outcome_code(context: grpc.aio.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    """The status a call ended with, as far as the server side can tell."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        for candidate in grpc.StatusCode:
            if candidate.value[0] == code:
                return candidate
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, grpc.aio.AbortError):
        return grpc.StatusCode.UNKNOWN
    if isinstance(error, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


HandlerWrap = Callable[[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler]


class _WrappedGeneric(grpc.GenericRpcHandler):  # type: ignore[misc]
    """A generic handler whose answers are wrapped, once per method (a test's hand-made service)."""

    def __init__(self, inner: grpc.GenericRpcHandler, wrap: HandlerWrap) -> None:
        self._inner = inner
        self._wrap = wrap
        self._cache: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self._inner.service(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        cached = self._cache.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(method, handler)
        self._cache[method] = (handler, wrapped)
        return wrapped


@dataclass(frozen=True)
class _MethodLookup:
    """The part of a call's details a service handler reads to find a method (its full name)."""

    method: str
    invocation_metadata: tuple[tuple[str, str], ...] = ()


def _service_methods(handler: grpc.GenericRpcHandler) -> dict[str, grpc.RpcMethodHandler]:
    """A generated service's handlers by method name, asked of `handler` method by method from its
    descriptor; empty when it is not a whole service or its descriptor is unknown.

    Stubs generated by older grpcio-tools (Envoy's data-plane API: ext_authz, the access log)
    register only a generic handler; found this way they join the registered methods, so the edge
    lane serves them too (ext_authz's Check is unary).
    """
    if not isinstance(handler, grpc.ServiceRpcHandler):
        return {}
    try:
        desc = descriptor_pool.Default().FindServiceByName(handler.service_name())
    except KeyError:
        return {}
    found: dict[str, grpc.RpcMethodHandler] = {}
    for method in desc.methods:
        answer = handler.service(_MethodLookup(f"/{desc.full_name}/{method.name}"))
        if answer is not None:
            found[method.name] = answer
    return found


class _ByMethod(grpc.GenericRpcHandler):  # type: ignore[misc]
    """Every registered method's wrapped handler, found by its full name in one look-up."""

    def __init__(self) -> None:
        self.methods: dict[str, grpc.RpcMethodHandler] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        return self.methods.get(handler_call_details.method)


class WrappingServer:
    """What services register their handlers on: each handler is wrapped by `wrap` once, here.

    grpc.aio's interceptors cost two coroutine frames each on every call just to look the handler
    up (`intercept_service`), before any of them does its work; wrapping the handlers when they
    are registered gives the same behavior with none of that per call. Everything else is the
    real server's.

    Methods a generated `add_*Servicer_to_server` registers are served through ONE generic
    handler (a dict by full method name), not as grpc.aio "registered methods": its server loop
    keeps one pending request future per registered method and waits on all of them
    (`asyncio.wait(..., FIRST_COMPLETED)`) for every incoming call, so each call paid for every
    method of every service (the wallet registers over fifty). With none registered it waits on
    one future. The generated code also adds the same handlers as a generic handler; that one
    comes after the dict and is reached only for a method the dict does not know.
    """

    def __init__(self, server: grpc.aio.Server, wrap: HandlerWrap) -> None:
        self._server = server
        self._wrap = wrap
        self._by_method = _ByMethod()
        # First among the generic handlers: a registered method is found at the first look-up.
        server.add_generic_rpc_handlers((self._by_method,))

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        others = []
        for handler in generic_rpc_handlers:
            methods = _service_methods(handler)
            if methods:
                self.add_registered_method_handlers(handler.service_name(), methods)
            else:
                others.append(_WrappedGeneric(handler, self._wrap))
        if others:
            self._server.add_generic_rpc_handlers(tuple(others))

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        for name, handler in method_handlers.items():
            full_method = f"/{service_name}/{name}"
            self._by_method.methods[full_method] = self._wrap(full_method, handler)

    @property
    def unary_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        """Every registered method's wrapped handler by full name, a live read-only view: what the
        edge lane (services.common.lane.UnaryLane) serves."""
        return MappingProxyType(self._by_method.methods)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)
