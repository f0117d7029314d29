"""Unit tests of ES256 access-token verification and the JWKS cache."""

from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.hazmat.primitives import serialization
from gx.type.v1 import access_pb2

from services.common.auth import JwksCache, StaticKeySource, TokenVerifier, bearer_token, keys_from_jwks
from services.common.errors import Unauthenticated
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer, hs256_token, unsigned_token


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer("k1")


@pytest.fixture(scope="module")
def verifier(signer: Signer) -> TokenVerifier:
    return TokenVerifier(StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE, leeway_seconds=5)


async def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as err:
        await verifier.verify(token)
    return err.value.reason


async def test_valid_token_yields_principal_with_mapped_roles(signer: Signer, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(signer.token(sub="u-42", roles=["USER", "ADMIN", "ROLE_PARTNER", "WIZARD"]))
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
    pem = signer.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
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
    ids=["wrong-aud", "wrong-iss", "no-sub", "no-jti", "no-exp", "no-iat", "no-aud", "roles-not-list", "iat-future"],
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
    jwks = {"keys": [good.jwk(), {**other.jwk(), "use": "enc"}, {"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"}, {"kty": "EC"}]}
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


async def test_concurrent_unknown_kids_share_one_fetch() -> None:
    key = Signer("a")
    calls = 0
    gate = asyncio.Event()

    async def fetch() -> dict:
        nonlocal calls
        calls += 1
        await gate.wait()
        return {"keys": [key.jwk()]}

    cache = JwksCache(fetch, min_refresh_seconds=0, ttl_seconds=3600)
    waiters = [asyncio.ensure_future(cache.key_for("a")) for _ in range(20)]
    await asyncio.sleep(0.01)
    gate.set()
    assert all(k is not None for k in await asyncio.gather(*waiters))
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


async def test_remembered_token_skips_the_signature_check_and_yields_the_same_principal(signer: Signer) -> None:
    verifier = _CountingVerifier(StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE)
    token = signer.token(sub="u-7", roles=["ADMIN"])
    first, second = await verifier.verify(token), await verifier.verify(token)
    assert second == first and second.user_id == "u-7" and second.is_admin
    assert verifier.full_checks == 1


async def test_remembered_token_is_forgotten_once_past_exp_and_leeway(signer: Signer) -> None:
    clock = _Clock()
    verifier = _CountingVerifier(
        StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE, leeway_seconds=5, clock=clock
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
    verifier = TokenVerifier(StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE, leeway_seconds=0)
    now = int(time.time())
    token = signer.token(iat=now - 10, exp=now + 1)
    await verifier.verify(token)
    await asyncio.sleep(max(0.0, now + 1.05 - time.time()))
    assert await _reason(verifier, token) == "TOKEN_EXPIRED"


async def test_tampered_copy_of_a_remembered_token_is_refused(signer: Signer) -> None:
    verifier = TokenVerifier(StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE)
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
