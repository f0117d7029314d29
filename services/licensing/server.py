"""Wires the licensing service: resources, identity client, use cases, servicer and the shared gRPC server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from envoy.service.accesslog.v3 import als_pb2_grpc
from envoy.service.auth.v3 import external_auth_pb2_grpc
from gx.licensing.v1 import licensing_service_pb2_grpc
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.auth import TokenVerifier
from services.common.client_address import ClientAddressInterceptor
from services.common.db import autocommit_reads, check_database, open_autocommit_pool, open_database
from services.common.idempotency import Idempotency
from services.common.idempotency_purge import IdempotencyPurger
from services.common.redis import check_redis, open_redis
from services.common.server import GxServer, bind, create_server
from services.common.service_auth import ServiceTokenSource, audience_of, load_private_key, service_channel
from services.common.webhook_targets import TargetPolicy
from services.licensing.accesslog import AccessLogServicer
from services.licensing.authz import AuthorizationServicer, KeyAuthorizer, KeyDirectory
from services.licensing.lastused import LastUsed, LastUsedFlusher
from services.licensing.limiter import QuotaLimiter
from services.licensing.metering import UsageFlusher
from services.licensing.partner_tokens import PartnerTokens
from services.licensing.roles import IdentityRoles
from services.licensing.servicer import LicensingServicer
from services.licensing.settings import LicensingSettings
from services.licensing.usecases import LicensingUseCases, Policy
from services.licensing.webhooks import WebhookUseCases

_EXT_AUTHZ = "envoy.service.auth.v3.Authorization"
# The statement pool's connections at most: one short statement (a batch of them) per read.
STATEMENT_POOL_SIZE = 4
_ACCESS_LOG = "envoy.service.accesslog.v3.AccessLogService"
_IDENTITY_SERVICE_CONFIG = (
    Path(__file__).resolve().parents[2] / "protos/gx/identity/v1/identity_grpc_service_config.json"
)


@dataclass(frozen=True)
class Flushers:
    """The background batches: keys' last-used times and the usage counters."""

    last_used: LastUsedFlusher
    usage: UsageFlusher

    def start(self) -> None:
        """Start both."""
        self.last_used.start()
        self.usage.start()

    async def stop(self) -> None:
        """Stop both, each with a last flush."""
        await self.usage.stop()
        await self.last_used.stop()


@contextlib.asynccontextmanager
async def open_identity_roles(settings: LicensingSettings) -> AsyncIterator[IdentityRoles]:
    """Identity's role grants over a channel whose every call carries licensing's service token.

    Raises:
        OSError: the service key or identity's address is not configured (one line at start,
            not a failure at the first approval).
    """
    if not settings.auth.service_key_file:
        raise OSError("GX_AUTH__SERVICE_KEY_FILE is not set: licensing cannot call identity as a service")
    if not settings.identity_target:
        raise OSError("neither GX_LICENSING__IDENTITY_TARGET nor GX_AUTH__JWKS_TARGET names identity")
    source = ServiceTokenSource(
        settings.service_name,
        load_private_key(Path(settings.auth.service_key_file)),
        audience_of("identity"),
        ttl_seconds=settings.auth.service_token_ttl_seconds,
    )
    # Identity's own retry policy (AddUserRole: retried on UNAVAILABLE, safe since it is idempotent).
    options = (
        [("grpc.service_config", _IDENTITY_SERVICE_CONFIG.read_text())]
        if _IDENTITY_SERVICE_CONFIG.is_file()
        else []
    )
    channel = service_channel(settings.identity_target, source, options)
    try:
        yield IdentityRoles(channel, settings.licensing.identity_timeout_seconds)
    finally:
        await channel.close()


def create_licensing_server(
    settings: LicensingSettings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
    roles: IdentityRoles,
    *,
    verifier: TokenVerifier | None = None,
    statements: AsyncConnectionPool | None = None,
) -> tuple[GxServer, Flushers]:
    """The bound (not started) licensing server over open resources, and its Redis → PostgreSQL flushers.

    It serves `gx.licensing.v1.LicensingService` and, for the edge, Envoy's
    `envoy.service.auth.v3.Authorization` (ext_authz; no token: Envoy presents none, and the
    answer reveals only whether a key the caller holds is usable).

    Args:
        settings: The process settings.
        engine: The database engine (reads, readiness).
        sessions: Its session factory (the write transactions).
        redis: The Redis client (idempotency locks, last-used times, revocation list).
        roles: Identity's role grants.
        verifier: Token verifier; default: identity's JWKS from GX_AUTH__JWKS_TARGET.
        statements: Autocommit driver connections for the read of one's own partner
            (`open_statement_pool`); without them that read takes the general path.
    """
    opts = settings.licensing
    last_used = LastUsed(redis)
    reads = autocommit_reads(engine)
    authorizer = KeyAuthorizer(
        KeyDirectory(reads, ttl_seconds=opts.key_cache_seconds),
        QuotaLimiter(redis),
        last_used,
        dict(opts.tier_quotas),
        PartnerTokens(roles.channel, timeout_seconds=opts.partner_token_timeout_seconds),
    )
    access_log = AccessLogServicer(redis)
    usecases = LicensingUseCases(
        reads,
        Idempotency(sessions, redis, ttl_seconds=settings.idempotency.ttl_seconds),
        roles,
        last_used,
        Policy(dict(opts.tier_quotas), timedelta(seconds=opts.default_grace_seconds)),
        statements=statements,
    )
    # Loopback webhook targets (http too) only on a developer's machine and in the tests.
    webhooks = WebhookUseCases(usecases, reads, TargetPolicy(allow_loopback=settings.environment == "dev"))
    server = create_server(
        settings,
        [
            bind(
                licensing_service_pb2_grpc.add_LicensingServiceServicer_to_server,
                LicensingServicer(usecases, webhooks),
            ),
            bind(
                external_auth_pb2_grpc.add_AuthorizationServicer_to_server, AuthorizationServicer(authorizer)
            ),
            bind(als_pb2_grpc.add_AccessLogServiceServicer_to_server, access_log),
        ],
        {"postgres": lambda: check_database(engine), "redis": lambda: check_redis(redis)},
        verifier=verifier,
        public=[_EXT_AUTHZ, _ACCESS_LOG],
        redis=redis,
        # The audit trail's client address, through the trusted proxies of GX_CLIENT_ADDRESS__*.
        extra_interceptors=[ClientAddressInterceptor.from_settings(settings.client_address)],
    )
    server.on_stopping(access_log.close)
    flushers = Flushers(
        LastUsedFlusher(last_used, sessions, opts.last_used_flush_seconds),
        UsageFlusher(redis, sessions, opts.usage_flush_seconds),
    )
    return server, flushers


def open_statement_pool(
    settings: LicensingSettings,
) -> contextlib.AbstractAsyncContextManager[AsyncConnectionPool]:
    """Licensing's autocommit driver connections (`db.open_autocommit_pool`): the read of one's own
    partner, one short statement per batch of reads."""
    return open_autocommit_pool(settings.database, max_size=STATEMENT_POOL_SIZE, name="licensing-statements")


async def build(settings: LicensingSettings, stack: contextlib.AsyncExitStack) -> GxServer:
    """Opens the database, Redis and the identity channel on the exit stack and creates the server."""
    engine, sessions = await stack.enter_async_context(open_database(settings.database))
    redis = await stack.enter_async_context(open_redis(settings.redis))
    roles = await stack.enter_async_context(open_identity_roles(settings))
    # Expired idempotency records go in batches, one process at a time (advisory lock).
    await stack.enter_async_context(IdempotencyPurger(engine, settings.idempotency))
    statements = await stack.enter_async_context(open_statement_pool(settings))
    server, flushers = create_licensing_server(
        settings, engine, sessions, redis, roles, statements=statements
    )
    flushers.start()
    # Closed before Redis and the database (reverse order), with a last flush.
    stack.push_async_callback(flushers.stop)
    return server
