"""AIP-155 request ids for mutating use cases: replay the first answer, refuse reuse and overlap.

The record is written in the same transaction as the domain rows, so a stored response
exists exactly when the effect does. A Redis lock (SET NX PX) makes a concurrent duplicate
fail fast with ABORTED instead of racing the first one. A record answers replays for a TTL
(24 h by default); after it the same request id is a new request (an expired record that the
purge worker, services.common.idempotency_purge, has not deleted yet is ignored and replaced).

Hot ledger commands skip `Idempotency.run` (a Redis lock and a transaction of five round trips):
`services.common.outbox.accept_command` writes the command and this record in ONE statement,
with a PostgreSQL advisory lock (`lock_id`) as the in-flight marker; `find_record` and
`replay_or_refuse` answer what that statement could not record.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import redis.asyncio as aioredis
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.db import Fetchable, fetch_all
from services.common.errors import Aborted, InvalidArgument
from services.common.names import IDEMPOTENCY_LOCK_PREFIX

_log = logging.getLogger("gx.idempotency")
M = TypeVar("M", bound=Message)

REQUEST_IN_FLIGHT: Final = "REQUEST_IN_FLIGHT"
REQUEST_ID_REUSED: Final = "REQUEST_ID_REUSED"
IDEMPOTENCY_KEY_CONFLICT: Final = "IDEMPOTENCY_KEY_CONFLICT"
ANONYMOUS: Final = "-"
DEFAULT_TTL_SECONDS: Final = 24 * 3600.0

# The REST headers that carry a request id when the body has none (Envoy forwards headers as
# lower-case gRPC metadata). `X-Idempotency-Key` is an alias of `Idempotency-Key` for clients
# and gateways that prefix custom headers.
IDEMPOTENCY_KEY_HEADERS: Final = ("idempotency-key", "x-idempotency-key")


def key_from_headers(values: list[str | None]) -> str:
    """The one request id the key headers carry ('' when none does).

    Args:
        values: The value of each of IDEMPOTENCY_KEY_HEADERS (None when absent).

    Raises:
        InvalidArgument: IDEMPOTENCY_KEY_CONFLICT when the two headers name different keys.
    """
    keys = {v.strip() for v in values if v and v.strip()}
    if len(keys) > 1:
        raise InvalidArgument(
            "Idempotency-Key and X-Idempotency-Key carry different keys; send one",
            reason=IDEMPOTENCY_KEY_CONFLICT,
        )
    return keys.pop() if keys else ""


# Deletes the lock only if we still own it: after a TTL expiry another request may hold it.
_RELEASE: Final = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)

# psycopg syntax: both run straight on the driver (db.fetch_all), on every mutating call.
# Expired records (older than the TTL) do not answer: the purge may not have reached them yet.
_SELECT = (
    "SELECT request_hash, response_type, response FROM platform.idempotency_records"
    " WHERE scope = %(scope)s AND principal = %(principal)s AND request_id = %(request_id)s"
    " AND created_at >= now() - make_interval(secs => %(ttl)s)"
)
# A live record with the key means a concurrent duplicate committed first (no row returned); an
# expired one is replaced in place, so a request after expiry is new even before the purge.
_INSERT = (
    "INSERT INTO platform.idempotency_records AS r"
    " (scope, principal, request_id, request_hash, response_type, response)"
    " VALUES (%(scope)s, %(principal)s, %(request_id)s, %(request_hash)s, %(response_type)s, %(response)s)"
    " ON CONFLICT (scope, principal, request_id) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
    " response_type = EXCLUDED.response_type, response = EXCLUDED.response, created_at = now()"
    " WHERE r.created_at < now() - make_interval(secs => %(ttl)s)"
    " RETURNING 1"
)


@dataclass(frozen=True)
class IdempotentResult(Generic[M]):
    """What `Idempotency.run` returns.

    Attributes:
        response: The handler's response, or the stored one on a replay.
        replayed: True when this is an identical replay and nothing was executed.
    """

    response: M
    replayed: bool


def request_hash(request: Message) -> bytes:
    """A stable fingerprint of a request (type and deterministic encoding)."""
    digest = hashlib.sha256(request.DESCRIPTOR.full_name.encode())
    digest.update(b"\0")
    digest.update(request.SerializeToString(deterministic=True))
    return digest.digest()


def lock_id(scope: str, principal: str | None, request_id: str) -> int:
    """The PostgreSQL advisory lock (a signed 64-bit key) that marks this request id in flight.

    Taken with `pg_try_advisory_xact_lock` by the one-statement accept: a concurrent duplicate
    finds it held and fails ABORTED, as with the Redis lock, and it is released by the
    statement's own commit or rollback, so a crash never leaves it behind.
    """
    raw = f"{scope}\0{principal or ANONYMOUS}\0{request_id}".encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big", signed=True)


async def find_record(
    db: Fetchable, *, scope: str, principal: str | None, request_id: str, ttl_seconds: float
) -> object | None:
    """The live (unexpired) record of a request id, or None: one round trip on the driver."""
    key = {"scope": scope, "principal": principal or ANONYMOUS, "request_id": request_id, "ttl": ttl_seconds}
    rows = await fetch_all(db, _SELECT, key)
    return rows[0] if rows else None


def replay_or_refuse(stored: object, fingerprint: bytes) -> Message:
    """The stored response when `fingerprint` is the recorded request's.

    Raises:
        InvalidArgument: REQUEST_ID_REUSED when the id came with a different request.
    """
    if bytes(stored.request_hash) != fingerprint:  # type: ignore[attr-defined]
        raise InvalidArgument(
            "this request_id was already used for a different request",
            reason=REQUEST_ID_REUSED,
        )
    return _decode(stored.response_type, bytes(stored.response))  # type: ignore[attr-defined]


def _decode(response_type: str, data: bytes) -> Message:
    desc = descriptor_pool.Default().FindMessageTypeByName(response_type)
    cls = message_factory.GetMessageClass(desc)
    return cls.FromString(data)


class Idempotency:
    """Runs mutating use cases under AIP-155 semantics.

    Usage:
        result = await idem.run(scope="identity.ApproveKyc", principal=p.user_id,
                                request_id=req.request_id, request=req, handler=approve)

    where `handler(session)` does the domain writes (and `outbox.record_command`) in the
    given session's transaction and returns the response message.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        *,
        lock_ttl_seconds: float = 30.0,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        """Create the helper.

        Args:
            sessions: The service's session factory.
            redis: The service's Redis client.
            lock_ttl_seconds: How long an in-flight lock lives if its holder dies; longer
                than any use case takes.
            ttl_seconds: How long a record answers replays (GX_IDEMPOTENCY__TTL_SECONDS).
        """
        self._sessions = sessions
        self._redis = redis
        self._lock_ttl_ms = int(lock_ttl_seconds * 1000)
        self._ttl = ttl_seconds

    @staticmethod
    def _lock_key(scope: str, principal: str, request_id: str) -> str:
        raw = f"{scope}\0{principal}\0{request_id}".encode()
        return IDEMPOTENCY_LOCK_PREFIX + hashlib.sha256(raw).hexdigest()

    @property
    def ttl_seconds(self) -> float:
        """How long a record answers replays."""
        return self._ttl

    @staticmethod
    def _replay(stored: object, fingerprint: bytes) -> Message:
        return replay_or_refuse(stored, fingerprint)

    async def _lookup(self, session: AsyncSession, key: dict[str, str]) -> object | None:
        rows = await fetch_all(session, _SELECT, {**key, "ttl": self._ttl})
        return rows[0] if rows else None

    async def _stored(self, key: dict[str, str]) -> object | None:
        async with self._sessions() as session:
            return await self._lookup(session, key)

    async def run(
        self,
        *,
        scope: str,
        principal: str | None,
        request_id: str,
        request: Message,
        handler: Callable[[AsyncSession], Awaitable[M]],
    ) -> IdempotentResult[M]:
        """Run `handler` once per (scope, principal, request_id).

        Args:
            scope: The use case, e.g. `identity.ApproveKyc`; ids never clash across scopes.
            principal: The caller's user id (None for anonymous calls).
            request_id: The request's `request_id`; empty means no idempotency.
            request: The request, fingerprinted to tell a replay from a reuse.
            handler: Does the work in the session's transaction and returns the response.

        Raises:
            Aborted: REQUEST_IN_FLIGHT when the same request id is being processed.
            InvalidArgument: REQUEST_ID_REUSED when the id came with a different request.
        """
        if not request_id:
            async with self._sessions.begin() as session:
                return IdempotentResult(await handler(session), replayed=False)
        key = {"scope": scope, "principal": principal or ANONYMOUS, "request_id": request_id}
        fingerprint = request_hash(request)

        # The lock comes first: most ids are new, and the lookup in the transaction below
        # answers a finished request's replay anyway, so a separate lookup before the lock
        # would cost every new request a second connection and round trip.
        lock = self._lock_key(scope, key["principal"], request_id)
        owner = secrets.token_hex(16)
        try:
            locked = await self._redis.set(lock, owner, nx=True, px=self._lock_ttl_ms)
        except Exception:
            # Without Redis nothing new may run, but a finished request still replays.
            stored = await self._stored(key)
            if stored is not None:
                return IdempotentResult(self._replay(stored, fingerprint), replayed=True)
            raise
        if not locked:
            # Someone holds the lock: a replay of a finished request still gets its answer
            # (e.g. a concurrent replay of it); only a request still running is refused.
            stored = await self._stored(key)
            if stored is not None:
                return IdempotentResult(self._replay(stored, fingerprint), replayed=True)
            raise Aborted(
                "a request with this request_id is still being processed; retry shortly",
                reason=REQUEST_IN_FLIGHT,
            )
        try:
            async with self._sessions.begin() as session:
                # A finished request (the usual replay) is answered from its record.
                stored = await self._lookup(session, key)
                if stored is not None:
                    return IdempotentResult(self._replay(stored, fingerprint), replayed=True)
                response = await handler(session)
                inserted = await fetch_all(
                    session,
                    _INSERT,
                    {
                        **key,
                        "ttl": self._ttl,
                        "request_hash": fingerprint,
                        "response_type": response.DESCRIPTOR.full_name,
                        "response": response.SerializeToString(deterministic=True),
                    },
                )
                if not inserted:
                    # Someone committed the same id without our lock (its TTL ran out):
                    # roll our writes back rather than apply the request twice.
                    raise Aborted(
                        "a request with this request_id completed concurrently; retry to get its answer",
                        reason=REQUEST_IN_FLIGHT,
                    )
            return IdempotentResult(response, replayed=False)
        finally:
            try:
                await self._redis.eval(_RELEASE, 1, lock, owner)
            except Exception as exc:
                # The TTL frees it anyway; the request itself succeeded or failed already.
                _log.warning("could not release idempotency lock: %s", exc)
