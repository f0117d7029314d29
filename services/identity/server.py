"""Wires the identity service: resources, use cases, servicer and the shared gRPC server."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from gx.identity.v1 import identity_service_pb2_grpc
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.auth import JwksCache, TokenVerifier
from services.common.client_address import ClientAddressInterceptor
from services.common.db import check_database, open_autocommit_pool, open_database
from services.common.idempotency import Idempotency
from services.common.idempotency_purge import IdempotencyPurger
from services.common.redis import check_redis, open_redis
from services.common.revocation import RevocationList
from services.common.server import GxServer, bind, create_server, revocation_list
from services.identity.accounts import AccountPolicy, AccountUseCases
from services.identity.keys import KeyStore
from services.identity.limits import Limit, RequestLimiter
from services.identity.lockout import LockoutPolicy, LoginLockout
from services.identity.metrics import IdentityMetrics
from services.identity.passwords import PasswordHashing
from services.identity.servicer import IdentityServicer
from services.identity.sessions import SessionPolicy
from services.identity.settings import IdentitySettings
from services.identity.tokens import AccessTokenIssuer
from services.identity.usecases import IdentityUseCases


def local_verifier(settings: IdentitySettings, keys: KeyStore) -> TokenVerifier:
    """A verifier over identity's own key store.

    Identity verifies its own tokens without calling itself: the JWKS cache reads the key
    directory, so a key rotated by another replica (or `gx identity rotate-key`) is picked
    up the first time a token names it.
    """

    async def fetch() -> Mapping[str, Any]:
        keys.reload()
        return keys.jwks()

    cache = JwksCache(
        fetch,
        min_refresh_seconds=settings.auth.jwks_min_refresh_seconds,
        ttl_seconds=settings.auth.jwks_ttl_seconds,
    )
    return TokenVerifier(
        cache,
        issuer=settings.auth.issuer,
        audience=settings.auth.audience,
        leeway_seconds=settings.auth.leeway_seconds,
    )


def build_usecases(
    settings: IdentitySettings,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
    keys: KeyStore,
    revocations: RevocationList | None = None,
    registry: CollectorRegistry | None = None,
    statements: AsyncConnectionPool | None = None,
) -> IdentityUseCases:
    """The use cases over open resources."""
    return build_all_usecases(settings, sessions, redis, keys, revocations, registry, statements)[0]


def build_all_usecases(
    settings: IdentitySettings,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
    keys: KeyStore,
    revocations: RevocationList | None = None,
    registry: CollectorRegistry | None = None,
    statements: AsyncConnectionPool | None = None,
) -> tuple[IdentityUseCases, AccountUseCases]:
    """The use cases over open resources: identity's, and the account flows wired into them.

    `statements` (`open_statement_pool`) serves a user's read of their own profile in one
    statement; without it GetUser always takes the transactional path.
    """
    opts = settings.identity
    metrics = IdentityMetrics.for_registry(registry)
    hashing = PasswordHashing(
        opts.argon2_memory_kib,
        opts.argon2_time_cost,
        opts.argon2_parallelism,
        max_concurrent=opts.argon2_max_concurrent or None,
        hashes=metrics.password_hashes,
        verifications=metrics.password_verifications,
    )
    issuer = AccessTokenIssuer(
        keys, settings.auth.issuer, settings.auth.audience, timedelta(seconds=opts.access_token_ttl_seconds)
    )
    lockout = LoginLockout(
        redis,
        LockoutPolicy(
            opts.lockout_account_limit,
            opts.lockout_ip_limit,
            opts.lockout_window_seconds,
            opts.lockout_delay_base_seconds,
            opts.lockout_delay_max_seconds,
        ),
    )
    policy = SessionPolicy(timedelta(days=opts.refresh_idle_days), timedelta(days=opts.session_max_days))
    revocations = revocations or revocation_list(settings, redis)
    idempotency = Idempotency(sessions, redis, ttl_seconds=settings.idempotency.ttl_seconds)
    accounts = AccountUseCases(
        sessions,
        hashing,
        issuer,
        lockout,
        idempotency,
        revocations,
        RequestLimiter(redis),
        AccountPolicy(
            link_base=opts.account_link_base,
            verify_ttl=timedelta(seconds=opts.verification_ttl_seconds),
            reset_ttl=timedelta(seconds=opts.reset_ttl_seconds),
            resend_limit=Limit(opts.verification_resend_limit, opts.verification_resend_window_seconds),
            reset_address_limit=Limit(opts.reset_address_limit, opts.reset_address_window_seconds),
            reset_email_limit=Limit(opts.reset_email_limit, opts.reset_email_window_seconds),
        ),
        policy,
    )
    usecases = IdentityUseCases(
        sessions,
        hashing,
        keys,
        issuer,
        lockout,
        idempotency,
        revocations,
        policy,
        on_throttled=lambda lock: metrics.login_throttled.labels(lock.scope).inc(),
        service_grants=opts.service_role_grants,
        partner_token_services=opts.partner_token_services,
        on_registered=accounts.on_registered,
        statements=statements,
    )
    return usecases, accounts


def create_identity_server(
    settings: IdentitySettings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
    statements: AsyncConnectionPool | None = None,
) -> GxServer:
    """The bound (not started) identity server over open resources.

    Args:
        settings: The process settings.
        engine: The database engine (for the readiness check).
        sessions: Its session factory.
        redis: The Redis client.
        statements: The statement pool (`open_statement_pool`) for the own-profile read.
    """
    keys = KeyStore.open(
        settings.identity.keys_dir, timedelta(seconds=settings.identity.key_activation_seconds)
    )
    trusted = [ipaddress.ip_network(n, strict=False) for n in settings.identity.trusted_proxies]
    # One deny-list object for writing (freeze, roles, logout) and checking, so identity's own
    # writes take effect in its interceptor at once.
    revocations = revocation_list(settings, redis)
    usecases, accounts = build_all_usecases(
        settings, sessions, redis, keys, revocations, statements=statements
    )
    servicer = IdentityServicer(usecases, trusted, settings.identity.trusted_hops, accounts=accounts)
    return create_server(
        settings,
        [bind(identity_service_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        {"postgres": lambda: check_database(engine), "redis": lambda: check_redis(redis)},
        verifier=local_verifier(settings, keys),
        redis=redis,
        revocations=revocations,
        # The audit trail's client address, through the same trusted proxies as login throttling.
        extra_interceptors=[ClientAddressInterceptor(trusted, settings.identity.trusted_hops)],
        # The edge routes grpc.reflection to identity: it answers for the whole mesh.
        reflect_mesh=True,
    )


async def build(settings: IdentitySettings, stack: contextlib.AsyncExitStack) -> GxServer:
    """Opens the database and Redis on the exit stack and creates the server (for run_server)."""
    engine, sessions = await stack.enter_async_context(open_database(settings.database))
    redis = await stack.enter_async_context(open_redis(settings.redis))
    # Expired idempotency records go in batches, one process at a time (advisory lock).
    await stack.enter_async_context(IdempotencyPurger(engine, settings.idempotency))
    statements = await stack.enter_async_context(open_statement_pool(settings))
    return create_identity_server(settings, engine, sessions, redis, statements)


# The statement pool's connections at most. Only the own-profile read uses it, one short
# statement per call with nothing held between round trips, so a few connections serve many
# calls in flight; each is a PostgreSQL backend, and identity's memory goal is 150 MB. Eight
# measured against four at 8 reads in flight, back to back (two pairs, load 0.6-1.5): identity CPU
# per profile read 0.59-0.62 ms either way.
STATEMENT_POOL_SIZE = 4


def open_statement_pool(
    settings: IdentitySettings,
) -> contextlib.AbstractAsyncContextManager[AsyncConnectionPool]:
    """Identity's autocommit driver connections (`db.open_autocommit_pool`): the own-profile read."""
    return open_autocommit_pool(settings.database, max_size=STATEMENT_POOL_SIZE, name="identity-statements")
