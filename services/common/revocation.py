"""The access-token deny-list in Redis, read by every service's auth interceptor.

Access tokens are verified offline, so without a shared list a frozen user's token would work
until it expires (up to 15 minutes). Identity writes here when a user is frozen or their roles
change (every token of the subject issued up to that moment) and on logout (the presented token
by `jti`, and the session by `sid`); every service reads it.

One Redis hash per subject holds all of that subject's entries, so a check is at most one
HGETALL per subject per `cache_seconds` (1 s): a busy user's calls share one read, and tokens
are ended everywhere within the cache age plus the time to write. Entries expire on their own
once every token they could match has expired.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis

from services.common.lru import BoundedLru
from services.common.names import REVOCATION_KEY_PREFIX

_log = logging.getLogger("gx.auth.revocation")

# The claim identity adds with the issue time in milliseconds: `iat` has whole seconds only,
# which cannot tell a token minted just before a revocation from one minted just after it.
ISSUED_AT_MS_CLAIM: Final = "gx_iat_ms"
# OpenID Connect's session id claim: the refresh-token family (login session) of a token.
SESSION_CLAIM: Final = "sid"

_BEFORE: Final = "before"
_JTI: Final = "jti:"
_SID: Final = "sid:"

# Sets one field of the subject's hash (`before` only ever moves forward) and extends the
# hash's expiry to at least ARGV[4] ms; one atomic step, so concurrent revocations of one
# subject cannot shorten each other's reach. KEYS[1] hash; ARGV field, value, mode, ttl ms.
_WRITE: Final = """
if ARGV[3] == 'max' then
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
  if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
"""


def _key(subject: str) -> str:
    return REVOCATION_KEY_PREFIX + subject


def issued_at_ms(claims: Mapping[str, Any]) -> int:
    """A token's issue time in ms: `gx_iat_ms` when present, else `iat` seconds (tokens from
    before the claim existed)."""
    precise = claims.get(ISSUED_AT_MS_CLAIM)
    if isinstance(precise, int) and not isinstance(precise, bool):
        return precise
    return int(claims.get("iat", 0)) * 1000


@dataclass(frozen=True)
class DenyEntry:
    """What the deny-list says about one subject.

    Attributes:
        before_ms: Tokens issued at or before this time (epoch ms) are revoked; 0 for none.
        token_ids: Revoked `jti`s.
        session_ids: Revoked `sid`s (ended login sessions).
    """

    before_ms: int = 0
    token_ids: frozenset[str] = frozenset()
    session_ids: frozenset[str] = frozenset()

    def revokes(self, claims: Mapping[str, Any]) -> bool:
        """Whether a token with these (verified) claims is revoked."""
        if self.before_ms and issued_at_ms(claims) <= self.before_ms:
            return True
        if claims.get("jti") in self.token_ids:
            return True
        sid = claims.get(SESSION_CLAIM)
        return isinstance(sid, str) and sid in self.session_ids

    @classmethod
    def parse(cls, raw: Mapping[bytes | str, bytes | str]) -> DenyEntry:
        """From an HGETALL answer."""
        before = 0
        jtis: set[str] = set()
        sids: set[str] = set()
        for k, v in raw.items():
            field = k.decode() if isinstance(k, bytes) else k
            if field == _BEFORE:
                before = int(v)
            elif field.startswith(_JTI):
                jtis.add(field.removeprefix(_JTI))
            elif field.startswith(_SID):
                sids.add(field.removeprefix(_SID))
        return cls(before, frozenset(jtis), frozenset(sids))


_EMPTY: Final = DenyEntry()


class RevocationList:
    """Writes and checks the deny-list, with a per-process cache of at most `cache_seconds`."""

    def __init__(
        self,
        redis: Redis,
        *,
        cache_seconds: float = 1.0,
        ttl_seconds: float = 960.0,
        max_subjects: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create the list.

        Args:
            redis: The process's Redis client.
            cache_seconds: The oldest cached answer used; the revocation delay is this plus
                one Redis write and read.
            ttl_seconds: How long an entry is kept: longer than the longest access-token
                lifetime plus the verifiers' leeway, after which no token it matches is valid.
            max_subjects: Cached subjects kept at most (least recently used go first).
            clock: Monotonic seconds (tests pass a fake one).
        """
        self._redis = redis
        self._cache_seconds = cache_seconds
        self._ttl_ms = int(ttl_seconds * 1000)
        self._clock = clock
        self._cache: BoundedLru[str, tuple[float, DenyEntry]] = BoundedLru(max_subjects)
        self._inflight: dict[str, asyncio.Future[DenyEntry]] = {}
        self._batch: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._write = redis.register_script(_WRITE)
        # What the cache and the batching save is measured by these.
        self.reads = 0  # subjects read from Redis
        self.round_trips = 0  # pipelined reads sent

    # Writing (identity)

    async def revoke_subject(self, subject: str, before_ms: int) -> None:
        """Revoke every token of `subject` issued at or before `before_ms` (freeze, role change)."""
        await self._write(keys=[_key(subject)], args=[_BEFORE, before_ms, "max", self._ttl_ms])
        self._forget(subject)

    async def revoke_token(self, subject: str, token_id: str) -> None:
        """Revoke one access token by its `jti` (logout)."""
        await self._write(keys=[_key(subject)], args=[_JTI + token_id, 1, "set", self._ttl_ms])
        self._forget(subject)

    async def revoke_session(self, subject: str, session_id: str) -> None:
        """Revoke every access token of one login session (`sid`, logout)."""
        await self._write(keys=[_key(subject)], args=[_SID + session_id, 1, "set", self._ttl_ms])
        self._forget(subject)

    async def cutoff_ms(self, subject: str) -> int:
        """The subject's current issued-before time (0 if none), read from Redis, not the cache.

        Identity mints new tokens after it, so a token issued right after a revocation (on a
        replica whose clock is a little behind) is never caught by it.
        """
        raw = await self._redis.hget(_key(subject), _BEFORE)
        return int(raw) if raw is not None else 0

    # Checking (every service)

    async def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether a verified token is revoked.

        Raises:
            redis.exceptions.RedisError: Redis could not be asked (and nothing fresh is cached);
                the caller decides whether to fail closed.
        """
        subject = claims.get("sub")
        if not isinstance(subject, str):
            return True
        return (await self._entry(subject)).revokes(claims)

    async def _entry(self, subject: str) -> DenyEntry:
        now = self._clock()
        cached = self._cache.get(subject)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        future = self._inflight.get(subject)
        if future is None:
            # Calls of one subject arriving together share one read, and the reads of every
            # subject asked for in the same moment share one pipelined round trip: a burst
            # of a thousand users costs one connection, not a thousand (the pool would run
            # out and fail the writes closed).
            future = asyncio.get_running_loop().create_future()
            self._inflight[subject] = future
            self._batch.append(subject)
            if self._flusher is None:
                self._flusher = asyncio.get_running_loop().create_task(self._flush())
        # Shielded: a caller that goes away does not cancel the read the others wait on.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the callers of this moment join the batch
        subjects, self._batch, self._flusher = self._batch, [], None
        # The time is taken before the read: the answers are at least as fresh as that.
        asked = self._clock()
        self.reads += len(subjects)
        self.round_trips += 1
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for subject in subjects:
                    pipe.hgetall(_key(subject))
                answers = await pipe.execute()
        except Exception as exc:
            for subject in subjects:
                future = self._inflight.pop(subject)
                future.set_exception(exc)
                future.exception()  # retrieved: waiters may all have gone
            return
        for subject, raw in zip(subjects, answers, strict=True):
            entry = DenyEntry.parse(raw) if raw else _EMPTY
            self._remember(subject, asked, entry)
            self._inflight.pop(subject).set_result(entry)

    def _remember(self, subject: str, at: float, entry: DenyEntry) -> None:
        self._cache.put(subject, (at, entry))

    def _forget(self, subject: str) -> None:
        # This process's own writes take effect here at once.
        self._cache.pop(subject)
