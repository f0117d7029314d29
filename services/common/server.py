"""The gRPC server factory every GX process uses, and `run_server`: a service on the process runtime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from services.common.auth import AuthInterceptor, GrpcJwksFetcher, JwksCache, TokenVerifier, Verifier
from services.common.health import Check, HealthMonitor
from services.common.interceptors import ServerCalls
from services.common.logging import LogKey
from services.common.metrics import GrpcServerMetrics, MetricsHttpServer
from services.common.probes import Probes
from services.common.reflection import enable_reflection, mesh_service_names
from services.common.revocation import RevocationList
from services.common.rpc import BehaviorInterceptor, WrappingServer
from services.common.runtime import Runtime, run_process
from services.common.service_auth import with_service_tokens
from services.common.settings import ServiceSettings

if TYPE_CHECKING:
    from services.common.lane import UnaryLane

_log = logging.getLogger("gx.server")
# Generous but bounded: the edge already caps bodies; this stops a direct client from
# making the server buffer arbitrarily large messages.
_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def settle_garbage_collector() -> None:
    """Once a server is up, what start-up built is kept out of every later collection (`gc.freeze`).

    A started service holds about 120k tracked objects (modules, descriptors, settings) that
    live until exit; a full collection walked all of them (26 ms on this machine, a pause for
    every call in flight), frozen it walks only what came after. Calls' own objects are left to
    the usual collections: a larger young threshold changed nothing per call (callgrind, no-op
    server: 748k instructions either way).
    """
    gc.collect()
    gc.freeze()


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
        cache,
        issuer=settings.auth.issuer,
        audience=settings.auth.audience,
        leeway_seconds=settings.auth.leeway_seconds,
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
        probes: Readiness (its health servicer is registered on `server`) and the /metrics
            /healthz /readyz endpoint (when GX_METRICS_LISTEN is set): the runtime's `Probes`.
        lane: The edge lane serving the same unary methods (when GX_LANE_LISTEN is set).
        lane_listen: Where the lane listens (`host:port`; port 0 picks one at start).
    """

    server: grpc.aio.Server
    port: int
    address: str
    probes: Probes
    lane: UnaryLane | None = None
    lane_listen: str = ""
    lane_port: int | None = None
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _stopping: list[Callable[[], None]] = field(default_factory=list)
    _started: bool = False
    _stopped: bool = False

    @property
    def health(self) -> HealthMonitor:
        """The health monitor (its servicer is registered on `server`)."""
        return self.probes.monitor

    @property
    def metrics_http(self) -> MetricsHttpServer | None:
        """The /metrics /healthz /readyz endpoint, when GX_METRICS_LISTEN is set."""
        return self.probes.http

    @property
    def metrics_port(self) -> int | None:
        """The bound metrics port, once started."""
        return self.probes.port

    async def start(self) -> None:
        """Start serving, run the first health round, open the metrics endpoint."""
        await self.server.start()
        self._started = True
        if self.lane is not None:
            self.lane_port = await self.lane.start(self.lane_listen)
        await self.probes.start()

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
        await self.probes.shutdown()
        if self._started:
            # Both listeners drain together: Envoy's calls arrive on the lane, the mesh's on gRPC.
            draining = [self.server.stop(grace)]
            if self.lane is not None:
                draining.append(self.lane.stop(grace))
            await asyncio.gather(*draining)
        await self.probes.stop()
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
    extra_interceptors: Sequence[BehaviorInterceptor] = (),
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
    calls = ServerCalls(
        settings.error_domain,
        GrpcServerMetrics.for_registry(registry),
        AuthInterceptor(checked, public, revocations),
        extra_interceptors,
    )
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
            *options,
        ],
    )
    # Handlers are wrapped with the call chain as they are registered (no grpc interceptors:
    # each would cost two awaited frames per call just to find the handler).
    wrapping: Any = WrappingServer(server, calls.wrap)
    for service in services:
        service.add(wrapping)
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, wrapping)
    names = [s.name for s in services]
    reflected = sorted({*names, *mesh_service_names()}) if reflect_mesh else names
    enable_reflection(
        [*reflected, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        wrapping,
    )
    try:
        port = server.add_insecure_port(settings.listen)
    except RuntimeError:
        port = 0
    if port == 0:
        raise OSError(f"cannot listen on {settings.listen} (GX_LISTEN): the address is in use or unavailable")
    host = settings.listen.rpartition(":")[0]
    probes = Probes(settings, checks or {}, servicer=health_servicer, services=names, registry=registry)
    # The edge lane runs the very handlers registered above (same chain), so Envoy's unary calls
    # skip grpc.aio's per-call transport cost; streaming and the mesh's own calls stay on gRPC.
    lane: UnaryLane | None = None
    if settings.lane_listen:
        # Imported here: a process without a lane does not carry its modules (about 0.7 MB).
        from services.common.lane import UnaryLane

        lane = UnaryLane(wrapping.unary_methods, max_message_bytes=_MAX_MESSAGE_BYTES)
    return GxServer(
        server=server,
        port=port,
        address=f"{host}:{port}",
        probes=probes,
        lane=lane,
        lane_listen=settings.lane_listen,
        _closers=closers,
    )


class Serving:
    """A started server as the process runtime's main part: it runs until a shutdown has drained it."""

    def __init__(self, gx: GxServer, grace: float) -> None:
        self.gx = gx
        self._grace = grace
        self._drained = asyncio.Event()

    async def run(self) -> None:
        """Serve until `shutdown()` has drained the server."""
        await self._drained.wait()

    async def shutdown(self) -> None:
        """NOT_SERVING, then in-flight calls get `grace` seconds to finish (GxServer.stop)."""
        await self.gx.stop(self._grace)
        self._drained.set()


async def run_server(
    settings: ServiceSettings,
    build: Callable[[contextlib.AsyncExitStack], Awaitable[GxServer]],
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """Run a service until SIGTERM/SIGINT, then shut down gracefully (`runtime.run_process`).

    `build` opens the process's resources on the exit stack (engine, Redis, ...) and returns
    `create_server(...)`. On a signal: health goes NOT_SERVING, in-flight calls get
    `GX_SHUTDOWN_GRACE_SECONDS` to finish, then resources close in reverse order.

    Args:
        settings: The process settings.
        build: Opens resources and creates the server.
        stop: Set it to stop (tests); by default only signals stop the server.
    """

    async def serve(runtime: Runtime) -> Serving:
        gx = await build(runtime.stack)
        await gx.start()
        settle_garbage_collector()
        _log.info(
            "%s serving gRPC on %s%s%s",
            settings.service_name,
            gx.address,
            f", the edge lane on port {gx.lane_port}" if gx.lane_port is not None else "",
            f", metrics on {settings.metrics_listen.rpartition(':')[0]}:{gx.metrics_port}"
            if gx.metrics_http
            else "",
            extra={LogKey.ADDRESS: gx.address, LogKey.METRICS_ADDRESS: gx.metrics_port},
        )
        return Serving(gx, settings.shutdown_grace_seconds)

    await run_process(settings, serve, stop=stop)
