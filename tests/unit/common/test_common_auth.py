"""Unit tests of ES256 access-token verification, the JWKS cache and the revocation deny-list."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from gx.identity.v1 import identity_service_pb2
from gx.type.v1 import access_pb2
from redis.exceptions import ConnectionError as RedisConnectionError

from services.common.auth import (
    AuthInterceptor,
    JwksCache,
    StaticKeySource,
    TokenVerifier,
    bearer_token,
    is_read,
    keys_from_jwks,
)
from services.common.errors import Unauthenticated, Unavailable
from services.common.revocation import RevocationList
from services.common.rpc import CallInfo
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer, hs256_token, unsigned_token


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer("k1")


@pytest.fixture(scope="module")
def verifier(signer: Signer) -> TokenVerifier:
    return TokenVerifier(
        StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE, leeway_seconds=5
    )


async def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as err:
        await verifier.verify(token)
    return err.value.reason


async def test_valid_token_yields_principal_with_mapped_roles(
    signer: Signer, verifier: TokenVerifier
) -> None:
    principal = await verifier.verify(
        signer.token(sub="u-42", roles=["USER", "ADMIN", "ROLE_PARTNER", "WIZARD"])
    )
    assert principal.user_id == "u-42"
    assert principal.roles == {access_pb2.ROLE_USER, access_pb2.ROLE_ADMIN, access_pb2.ROLE_PARTNER}
    assert principal.is_admin
    assert principal.token_id


async def test_expired_token_is_refused_as_expired(signer: Signer, verifier: TokenVerifier) -> None:
    now = int(time.time())
    assert await _reason(verifier, signer.token(iat=now - 1000, exp=now - 60)) == "TOKEN_EXPIRED"


async def test_token_signed_by_another_key_with_same_kid_is_forged(verifier: Signer) -> None:
    forger = Signer("k1")
    assert await _reason(verifier, forger.token()) == "TOKEN_INVALID"


async def test_tampered_payload_fails_signature(signer: Signer, verifier: TokenVerifier) -> None:
    header, payload, sig = signer.token().split(".")
    other = signer.token(sub="someone-else").split(".")[1]
    assert await _reason(verifier, f"{header}.{other}.{sig}") == "TOKEN_INVALID"
    assert payload != other


async def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    assert await _reason(verifier, unsigned_token("k1", "none")) == "TOKEN_INVALID"


async def test_hs256_with_public_key_as_secret_is_refused(signer: Signer, verifier: TokenVerifier) -> None:
    pem = signer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert await _reason(verifier, hs256_token(pem, "k1")) == "TOKEN_INVALID"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "evil-issuer"},
        {"sub": None},
        {"jti": None},
        {"exp": None},
        {"iat": None},
        {"aud": None},
        {"roles": "ADMIN"},
        {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},
    ],
    ids=[
        "wrong-aud",
        "wrong-iss",
        "no-sub",
        "no-jti",
        "no-exp",
        "no-iat",
        "no-aud",
        "roles-not-list",
        "iat-future",
    ],
)
async def test_bad_claims_are_refused(signer: Signer, verifier: TokenVerifier, overrides: dict) -> None:
    assert await _reason(verifier, signer.token(**overrides)) == "TOKEN_INVALID"


async def test_unknown_kid_and_garbage_are_refused(verifier: TokenVerifier) -> None:
    assert await _reason(verifier, Signer("k2").token()) == "TOKEN_INVALID"
    assert await _reason(verifier, "not-a-jwt") == "TOKEN_INVALID"
    assert await _reason(verifier, "a.b.c") == "TOKEN_INVALID"


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


def test_keys_from_jwks_keeps_only_p256_signing_keys() -> None:
    good, other = Signer("good"), Signer("enc")
    jwks = {
        "keys": [
            good.jwk(),
            {**other.jwk(), "use": "enc"},
            {"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"},
            {"kty": "EC"},
        ]
    }
    assert list(keys_from_jwks(jwks)) == ["good"]


async def test_jwks_cache_refreshes_on_unknown_kid_at_a_bounded_rate() -> None:
    first, second = Signer("a"), Signer("b")
    published = {"keys": [first.jwk()]}
    calls = 0

    async def fetch() -> dict:
        nonlocal calls
        calls += 1
        return published

    cache = JwksCache(fetch, min_refresh_seconds=3600, ttl_seconds=3600)
    fast = JwksCache(fetch, min_refresh_seconds=0, ttl_seconds=3600)
    assert await cache.key_for("a") is not None
    assert await fast.key_for("a") is not None
    assert calls == 2
    published = {"keys": [first.jwk(), second.jwk()]}
    # Rate limit: within the interval an unknown kid does not refetch, however often asked.
    for _ in range(5):
        assert await cache.key_for("b") is None
    assert calls == 2
    assert await fast.key_for("b") is not None  # rotated key found by refreshing on its kid
    assert calls == 3


async def test_jwks_cache_keeps_old_keys_when_refresh_fails() -> None:
    key = Signer("a")
    fail = False
    calls = 0

    async def fetch() -> dict:
        nonlocal calls
        calls += 1
        if fail:
            raise ConnectionError("identity down")
        return {"keys": [key.jwk()]}

    cache = JwksCache(fetch, min_refresh_seconds=0, ttl_seconds=0.0001)
    assert await cache.key_for("a") is not None
    fail = True
    await asyncio.sleep(0.001)
    assert await cache.key_for("a") is not None
    assert calls == 2  # the stale cache did try to refresh, failed, and kept serving the key


@pytest.mark.parametrize("min_refresh", [0, 3600])
async def test_a_burst_on_an_unknown_kid_shares_the_fetch_under_way(min_refresh: float) -> None:
    # Concurrent calls share one fetch. With a rate limit (it counts from the start of a fetch)
    # the calls that arrive while it is under way must still wait for its keys, not answer
    # "unknown" from the keys it is replacing: a fresh wallet's first burst of requests all but
    # one failed with 401 before.
    key = Signer("a")
    calls = 0
    gate = asyncio.Event()

    async def fetch() -> dict:
        nonlocal calls
        calls += 1
        await gate.wait()
        return {"keys": [key.jwk()]}

    cache = JwksCache(fetch, min_refresh_seconds=min_refresh, ttl_seconds=3600)
    waiters = [asyncio.ensure_future(cache.key_for("a")) for _ in range(20)]
    await asyncio.sleep(0.01)
    gate.set()
    assert all(k is not None for k in await asyncio.gather(*waiters))
    assert calls == 1
    if min_refresh:
        # Still rate-limited afterwards: a kid the fetch did not bring stays unknown, no refetch.
        assert await cache.key_for("b") is None
        assert calls == 1


class _Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class _CountingVerifier(TokenVerifier):
    """Counts full signature checks, so a test can tell a remembered token from a re-verified one."""

    full_checks = 0

    def verify_with_key(self, token, key):  # type: ignore[no-untyped-def]
        self.full_checks += 1
        return super().verify_with_key(token, key)


async def test_remembered_token_skips_the_signature_check_and_yields_the_same_principal(
    signer: Signer,
) -> None:
    verifier = _CountingVerifier(
        StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    token = signer.token(sub="u-7", roles=["ADMIN"])
    first, second = await verifier.verify(token), await verifier.verify(token)
    assert second == first and second.user_id == "u-7" and second.is_admin
    assert verifier.full_checks == 1


async def test_remembered_token_is_forgotten_once_past_exp_and_leeway(signer: Signer) -> None:
    clock = _Clock()
    verifier = _CountingVerifier(
        StaticKeySource({signer.kid: signer.public_key}),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=5,
        clock=clock,
    )
    now = int(clock.now)
    token = signer.token(iat=now, exp=now + 60)
    await verifier.verify(token)
    clock.now = now + 64.9  # inside the leeway: still answered from memory
    await verifier.verify(token)
    assert verifier.full_checks == 1
    clock.now = now + 65  # exp + leeway: memory no longer vouches for it
    await verifier.verify(token)  # PyJWT reads the real clock, by which the token is still valid
    assert verifier.full_checks == 2


async def test_real_expiry_of_a_remembered_token_is_refused_as_expired(signer: Signer) -> None:
    verifier = TokenVerifier(
        StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE, leeway_seconds=0
    )
    now = int(time.time())
    token = signer.token(iat=now - 10, exp=now + 1)
    await verifier.verify(token)
    await asyncio.sleep(max(0.0, now + 1.05 - time.time()))
    assert await _reason(verifier, token) == "TOKEN_EXPIRED"


async def test_tampered_copy_of_a_remembered_token_is_refused(signer: Signer) -> None:
    verifier = TokenVerifier(
        StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    token = signer.token(sub="u-1")
    await verifier.verify(token)
    header, payload, sig = token.split(".")
    other = signer.token(sub="u-2", roles=["SUPER_ADMIN"]).split(".")[1]
    assert await _reason(verifier, f"{header}.{other}.{sig}") == "TOKEN_INVALID"
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert await _reason(verifier, f"{header}.{payload}.{flipped}") == "TOKEN_INVALID"
    assert (await verifier.verify(token)).user_id == "u-1"


async def test_remembered_token_is_refused_once_its_key_is_withdrawn(signer: Signer) -> None:
    keys = {signer.kid: signer.public_key}
    verifier = TokenVerifier(StaticKeySource(keys), issuer=ISSUER, audience=AUDIENCE)
    source = verifier._keys  # the StaticKeySource copies the mapping; withdraw from its copy
    token = signer.token()
    await verifier.verify(token)
    source._keys.clear()  # type: ignore[attr-defined]
    assert await _reason(verifier, token) == "TOKEN_INVALID"


async def test_token_memory_is_bounded_least_recently_used_first(signer: Signer) -> None:
    verifier = _CountingVerifier(
        StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE, cache_size=2
    )
    a, b, c = signer.token(), signer.token(), signer.token()
    for token in (a, b, a, c):  # c evicts b, the least recently used
        await verifier.verify(token)
    assert verifier.full_checks == 3
    await verifier.verify(a)
    assert verifier.full_checks == 3
    await verifier.verify(b)
    assert verifier.full_checks == 4


# -- the revocation deny-list: cache, matching rules and the interceptor's outage policy --------


class _FakeDenyStore:
    """Just the Redis calls RevocationList makes, over a dict (a unit test of its pure logic;
    tests/integration/identity/test_identity_revocation.py runs it against a real Redis)."""

    def __init__(self) -> None:
        self.hashes: dict[str, dict[str, str]] = {}
        self.reads = 0
        self.round_trips = 0
        self.down = False

    def register_script(self, source: str) -> Any:
        async def run(keys: list[str], args: list[Any]) -> int:
            field, value, mode = str(args[0]), str(args[1]), args[2]
            entry = self.hashes.setdefault(keys[0], {})
            if mode != "max" or int(value) > int(entry.get(field, "0")):
                entry[field] = value
            return 1

        return run

    def pipeline(self, transaction: bool = True) -> _FakePipeline:
        return _FakePipeline(self)

    async def hget(self, key: str, field: str) -> bytes | None:
        value = self.hashes.get(key, {}).get(field)
        return value.encode() if value is not None else None


class _FakePipeline:
    def __init__(self, store: _FakeDenyStore) -> None:
        self._store = store
        self._keys: list[str] = []

    async def __aenter__(self) -> _FakePipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def hgetall(self, key: str) -> None:
        self._keys.append(key)

    async def execute(self) -> list[dict[bytes, bytes]]:
        self._store.reads += len(self._keys)
        self._store.round_trips += 1
        await asyncio.sleep(0)
        if self._store.down:
            raise RedisConnectionError("redis is down")
        return [
            {k.encode(): v.encode() for k, v in self._store.hashes.get(key, {}).items()} for key in self._keys
        ]


class _Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _claims(sub: str = "u-1", iat_ms: int = 1_000_000, **extra: Any) -> dict[str, Any]:
    return {"sub": sub, "iat": iat_ms // 1000, "gx_iat_ms": iat_ms, "jti": "j-1", **extra}


def _deny_list(store: _FakeDenyStore, clock: _Monotonic) -> RevocationList:
    return RevocationList(store, cache_seconds=1.0, clock=clock)  # type: ignore[arg-type]


async def test_revoked_before_catches_tokens_issued_up_to_the_cutoff_only() -> None:
    store, clock = _FakeDenyStore(), _Monotonic()
    deny = _deny_list(store, clock)
    await deny.revoke_subject("u-1", 1_000_500)
    assert await deny.is_revoked(_claims(iat_ms=1_000_499))
    assert await deny.is_revoked(_claims(iat_ms=1_000_500))
    assert not await deny.is_revoked(_claims(iat_ms=1_000_501))  # minted after: works
    assert not await deny.is_revoked(_claims(sub="u-2", iat_ms=1))  # another subject: untouched
    # A token without the precise claim falls back to whole seconds of `iat`.
    assert await deny.is_revoked({"sub": "u-1", "iat": 1000, "jti": "old"})
    # The cutoff only moves forward: an older revocation arriving late changes nothing.
    await deny.revoke_subject("u-1", 5)
    assert await deny.cutoff_ms("u-1") == 1_000_500


async def test_logout_entries_match_by_jti_and_by_session() -> None:
    store, clock = _FakeDenyStore(), _Monotonic()
    deny = _deny_list(store, clock)
    await deny.revoke_token("u-1", "j-gone")
    await deny.revoke_session("u-1", "s-gone")
    assert await deny.is_revoked(_claims(jti="j-gone"))
    assert await deny.is_revoked(_claims(jti="j-other", sid="s-gone"))
    assert not await deny.is_revoked(_claims(jti="j-other", sid="s-other"))
    assert not await deny.is_revoked(_claims(sub="u-2", jti="j-gone"))  # jti lists are per subject


async def test_one_redis_read_per_subject_per_cache_period_however_many_calls() -> None:
    store, clock = _FakeDenyStore(), _Monotonic()
    deny = _deny_list(store, clock)
    await asyncio.gather(*(deny.is_revoked(_claims()) for _ in range(50)))  # concurrent: one shared read
    for _ in range(200):
        await deny.is_revoked(_claims())
    assert store.reads == 1
    await deny.is_revoked(_claims(sub="u-2"))
    assert store.reads == 2  # per subject
    clock.now += 1.0  # the cached answer is now as old as allowed: read again
    await deny.is_revoked(_claims())
    assert store.reads == 3


async def test_a_burst_of_distinct_subjects_shares_one_round_trip() -> None:
    # A connection per subject would exhaust the pool and fail writes closed under load.
    store, clock = _FakeDenyStore(), _Monotonic()
    deny = _deny_list(store, clock)
    await deny.revoke_subject("s-7", 2_000_000)
    answers = await asyncio.gather(*(deny.is_revoked(_claims(sub=f"s-{i}")) for i in range(1000)))
    assert (store.reads, store.round_trips) == (1000, 1)
    assert [i for i, revoked in enumerate(answers) if revoked] == [7]


async def test_another_process_revocation_is_seen_once_the_cache_period_passes() -> None:
    store, clock = _FakeDenyStore(), _Monotonic()
    checker, writer = _deny_list(store, clock), _deny_list(store, clock)
    assert not await checker.is_revoked(_claims())
    await writer.revoke_subject("u-1", 2_000_000)
    clock.now += 0.999
    assert not await checker.is_revoked(_claims())  # still within the 1 s the cache may lag
    clock.now += 0.001
    assert await checker.is_revoked(_claims())
    # The writer's own check sees it at once.
    assert await writer.is_revoked(_claims())


async def test_a_failed_read_is_raised_to_every_waiter_and_not_cached() -> None:
    store, clock = _FakeDenyStore(), _Monotonic()
    deny = _deny_list(store, clock)
    store.down = True
    results = await asyncio.gather(*(deny.is_revoked(_claims()) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RedisConnectionError) for r in results)
    store.down = False
    assert not await deny.is_revoked(_claims())


class _Context:
    def __init__(self, token: str) -> None:
        self._md = (("authorization", f"Bearer {token}"),)

    def invocation_metadata(self) -> Any:
        return self._md


def _info(method: str, service: str = "gx.identity.v1.IdentityService", access: Any = None) -> CallInfo:
    return CallInfo(f"/{service}/{method}", service, method, access, "unary")


def test_reads_are_get_rules_or_get_and_list_methods() -> None:
    identity_service_pb2.DESCRIPTOR  # noqa: B018 - registers the service in the descriptor pool
    assert is_read(_info("GetUser"))
    assert is_read(_info("ListKycSubmissions"))
    assert not is_read(_info("FreezeUser"))
    assert not is_read(_info("ApproveKyc"))
    assert is_read(_info("GetThing", service="test.NoSuchService"))
    assert not is_read(_info("DoThing", service="test.NoSuchService"))


async def test_interceptor_refuses_a_revoked_token_and_fails_closed_for_writes_only(signer: Signer) -> None:
    store, clock = _FakeDenyStore(), _Monotonic()
    deny = _deny_list(store, clock)
    verifier = TokenVerifier(
        StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    interceptor = AuthInterceptor(verifier, revocations=deny)
    token = signer.token(sub="u-9")
    read, write = _info("GetUser"), _info("UpdateUser")
    assert (await interceptor._authenticate(read, _Context(token))).user_id == "u-9"  # type: ignore[arg-type,union-attr]

    await deny.revoke_subject("u-9", int(time.time() * 1000) + 1000)
    for info in (read, write):
        with pytest.raises(Unauthenticated) as revoked:
            await interceptor._authenticate(info, _Context(token))  # type: ignore[arg-type]
        assert revoked.value.reason == "TOKEN_REVOKED"

    # Redis unreachable: a fresh subject's write is refused with a reason, its read goes through.
    store.down = True
    fresh = signer.token(sub="u-10")
    with pytest.raises(Unavailable) as closed:
        await interceptor._authenticate(write, _Context(fresh))  # type: ignore[arg-type]
    assert closed.value.reason == "REVOCATION_CHECK_UNAVAILABLE"
    assert (await interceptor._authenticate(read, _Context(fresh))).user_id == "u-10"  # type: ignore[arg-type,union-attr]
    # On a public method the token is simply not used.
    public = _info("Login", access=access_pb2.AccessRule(public=True))
    assert await interceptor._authenticate(public, _Context(fresh)) is None  # type: ignore[arg-type]
