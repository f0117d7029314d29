"""The gRPC server factory every service uses, and `run_server` with graceful SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from services.common.auth import AuthInterceptor, GrpcJwksFetcher, JwksCache, TokenVerifier, Verifier
from services.common.health import Check, HealthMonitor
from services.common.interceptors import ErrorInterceptor, RequestContextInterceptor, ValidationInterceptor
from services.common.logging import LogKey
from services.common.metrics import GrpcServerMetrics, MetricsHttpServer, MetricsInterceptor
from services.common.reflection import enable_reflection, mesh_service_names
from services.common.revocation import RevocationList
from services.common.service_auth import with_service_tokens
from services.common.settings import ServiceSettings

_log = logging.getLogger("gx.server")
# Generous but bounded: the edge already caps bodies; this stops a direct client from
# making the server buffer arbitrarily large messages.
_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ServiceBinding:
    """One gRPC service to serve.

    Attributes:
        name: Its full name (`gx.identity.v1.IdentityService`), for health and reflection.
        add: Registers the servicer on a server (e.g. a generated `add_XServicer_to_server`
            bound to the servicer).
    """

    name: str
    add: Callable[[grpc.aio.Server], None]


def bind(add_to_server: Callable[[Any, grpc.aio.Server], None], servicer: Any) -> ServiceBinding:
    """A binding from a generated `add_<Svc>Servicer_to_server` and a servicer.

    The service's full name is read from the generated module's descriptor, so it cannot
    drift from the proto.
    """
    module = importlib.import_module(add_to_server.__module__.removesuffix("_grpc"))
    short = add_to_server.__name__.removeprefix("add_").removesuffix("Servicer_to_server")
    name = module.DESCRIPTOR.services_by_name[short].full_name
    return ServiceBinding(name=name, add=lambda server: add_to_server(servicer, server))


def default_verifier(settings: ServiceSettings) -> tuple[TokenVerifier | None, GrpcJwksFetcher | None]:
    """A verifier that fetches keys from identity's GetJwks at `GX_AUTH__JWKS_TARGET` (None if unset)."""
    if not settings.auth.jwks_target:
        return None, None
    fetcher = GrpcJwksFetcher(settings.auth.jwks_target, settings.auth.jwks_method)
    cache = JwksCache(
        fetcher,
        min_refresh_seconds=settings.auth.jwks_min_refresh_seconds,
        ttl_seconds=settings.auth.jwks_ttl_seconds,
    )
    verifier = TokenVerifier(
        cache, issuer=settings.auth.issuer, audience=settings.auth.audience, leeway_seconds=settings.auth.leeway_seconds
    )
    return verifier, fetcher


def revocation_list(settings: ServiceSettings, redis: Redis) -> RevocationList:
    """The access-token deny-list over the process's Redis, with the `GX_AUTH__REVOCATION_*` settings."""
    return RevocationList(
        redis,
        cache_seconds=settings.auth.revocation_cache_seconds,
        ttl_seconds=settings.auth.revocation_ttl_seconds,
    )


@dataclass
class GxServer:
    """A bound, not yet started, gRPC server with its health, metrics and shutdown.

    Attributes:
        server: The grpc.aio server.
        port: The bound gRPC port (the real one when GX_LISTEN asked for port 0).
        address: `host:port` actually bound.
        health: The health monitor (its servicer is registered on `server`).
        metrics_http: The /metrics /healthz /readyz endpoint, when GX_METRICS_LISTEN is set.
    """

    server: grpc.aio.Server
    port: int
    address: str
    health: HealthMonitor
    metrics_http: MetricsHttpServer | None = None
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _stopping: list[Callable[[], None]] = field(default_factory=list)
    _started: bool = False
    _stopped: bool = False

    @property
    def metrics_port(self) -> int | None:
        """The bound metrics port, once started."""
        return self.metrics_http.port if self.metrics_http else None

    async def start(self) -> None:
        """Start serving, run the first health round, open the metrics endpoint."""
        await self.server.start()
        self._started = True
        if self.metrics_http is not None:
            await self.metrics_http.start()
        await self.health.start()

    def on_stopping(self, callback: Callable[[], None]) -> None:
        """Call `callback` when a stop begins, before the drain: a long-lived stream (Envoy's
        access log to licensing) ends itself then, instead of holding the drain for the whole grace."""
        self._stopping.append(callback)

    async def stop(self, grace: float = 10.0) -> None:
        """Graceful stop: NOT_SERVING first, then drain in-flight calls for up to `grace` seconds.

        Health goes NOT_SERVING before the listener closes so load balancers and Envoy stop
        routing here while the calls already in flight finish.
        """
        if self._stopped:
            return
        self._stopped = True
        for callback in self._stopping:
            callback()
        await self.health.shutdown()
        if self._started:
            await self.server.stop(grace)
        if self.metrics_http is not None:
            await self.metrics_http.stop()
        for close in reversed(self._closers):
            await close()

    async def __aenter__(self) -> GxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop(0)


def create_server(
    settings: ServiceSettings,
    services: Sequence[ServiceBinding],
    checks: Mapping[str, Check] | None = None,
    *,
    verifier: TokenVerifier | None = None,
    public: Iterable[str] = (),
    registry: CollectorRegistry | None = None,
    extra_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    options: Sequence[tuple[str, Any]] = (),
    redis: Redis | None = None,
    revocations: RevocationList | None = None,
    reflect_mesh: bool = False,
) -> GxServer:
    """Build and bind the server every GX process runs; call from inside the event loop.

    Interceptors run in this order: request context and logging, metrics, error mapping,
    authentication and authorisation, validation, then `extra_interceptors`. Errors raised by
    auth and validation therefore reach the client as rich statuses and are counted by code.

    Args:
        settings: The process settings (GX_LISTEN, GX_METRICS_LISTEN, auth, service name).
        services: What to serve; health and reflection are added.
        checks: Named readiness checks (e.g. `{"postgres": ..., "redis": ...}`).
        verifier: Token verifier; default: from `GX_AUTH__JWKS_TARGET` (identity passes its own).
        public: Extra service/method names that need no token.
        registry: Prometheus registry (default: the process registry).
        extra_interceptors: Innermost service-specific interceptors.
        options: Extra grpc server options.
        redis: The process's Redis; access tokens are then checked against the revocation
            deny-list (without it, revoked tokens work until they expire: pass it).
        revocations: The deny-list itself, when the process also writes it (identity);
            default: one over `redis`.
        reflect_mesh: Reflect every gx service, not only `services`: for the one process the
            edge routes reflection to (services.common.reflection).

    Returns:
        The bound server; `await gx.start()` (or `async with gx:`) to serve.
    """
    closers: list[Callable[[], Awaitable[None]]] = []
    if verifier is None:
        verifier, fetcher = default_verifier(settings)
        if fetcher is not None:
            closers.append(fetcher.aclose)
    checked: Verifier | None = verifier
    if settings.auth.service_keys_dir:
        # Other services may call this one as themselves (services.common.service_auth).
        checked = with_service_tokens(
            verifier, settings.auth.service_keys_dir, settings.service_name, settings.auth.leeway_seconds
        )
    if checked is None:
        _log.warning("no token verifier configured: every non-public RPC will be refused")
    if revocations is None and redis is not None:
        revocations = revocation_list(settings, redis)
    if revocations is None and verifier is not None:
        _log.warning("no Redis given: revoked access tokens keep working until they expire")
    interceptors: list[grpc.aio.ServerInterceptor] = [
        RequestContextInterceptor(),
        MetricsInterceptor(GrpcServerMetrics.for_registry(registry)),
        ErrorInterceptor(settings.error_domain),
        AuthInterceptor(checked, public, revocations),
        ValidationInterceptor(),
        *extra_interceptors,
    ]
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
            *options,
        ],
    )
    for service in services:
        service.add(server)
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [s.name for s in services]
    reflected = sorted({*names, *mesh_service_names()}) if reflect_mesh else names
    enable_reflection(
        [*reflected, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
    )
    try:
        port = server.add_insecure_port(settings.listen)
    except RuntimeError:
        port = 0
    if port == 0:
        raise OSError(f"cannot listen on {settings.listen} (GX_LISTEN): the address is in use or unavailable")
    host = settings.listen.rpartition(":")[0]
    monitor = HealthMonitor(
        health_servicer,
        names,
        checks or {},
        interval=settings.health_check_interval_seconds,
        timeout=settings.health_check_timeout_seconds,
    )
    metrics_http = (
        MetricsHttpServer(settings.metrics_listen, lambda: monitor.ready, registry) if settings.metrics_listen else None
    )
    return GxServer(
        server=server, port=port, address=f"{host}:{port}", health=monitor, metrics_http=metrics_http, _closers=closers
    )


def _install_stop_signals(stop: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed


async def run_server(
    settings: ServiceSettings,
    build: Callable[[contextlib.AsyncExitStack], Awaitable[GxServer]],
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """Run a service until SIGTERM/SIGINT, then shut down gracefully.

    `build` opens the process's resources on the exit stack (engine, Redis, ...) and returns
    `create_server(...)`. On a signal: health goes NOT_SERVING, in-flight calls get
    `GX_SHUTDOWN_GRACE_SECONDS` to finish, then resources close in reverse order.

    Args:
        settings: The process settings.
        build: Opens resources and creates the server.
        stop: Set it to stop (tests); by default only signals stop the server.
    """
    stop = stop or asyncio.Event()
    installed = _install_stop_signals(stop)
    try:
        async with contextlib.AsyncExitStack() as stack:
            try:
                gx = await build(stack)
                await gx.start()
            except OSError as exc:
                # A taken port is an operator's mistake, not a crash: one line, no traceback.
                _log.error("%s cannot start: %s", settings.service_name, exc)
                raise SystemExit(2) from None
            _log.info(
                "%s serving gRPC on %s%s",
                settings.service_name,
                gx.address,
                f", metrics on {settings.metrics_listen.rpartition(':')[0]}:{gx.metrics_port}" if gx.metrics_http else "",
                extra={LogKey.ADDRESS: gx.address, LogKey.METRICS_ADDRESS: gx.metrics_port},
            )
            try:
                await stop.wait()
            finally:
                _log.info("%s shutting down", settings.service_name)
                await gx.stop(settings.shutdown_grace_seconds)
        _log.info("%s stopped", settings.service_name)
    finally:
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)
