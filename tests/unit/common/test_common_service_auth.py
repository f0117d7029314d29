"""Service tokens: signing and caching, and the receiver's checks (trusted key, its service, audience, type)."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from services.common import auth
from services.common.errors import Unauthenticated
from services.common.service_auth import (
    TOKEN_TYPE,
    ServiceAwareVerifier,
    ServiceTokenSource,
    ServiceTokenVerifier,
    TrustedServiceKeys,
    audience_of,
    key_id,
    load_private_key,
    service_of,
    write_key_pair,
)
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer


@pytest.fixture
def trusted(tmp_path: Path) -> tuple[Path, Path]:
    """licensing's key pair, its public half in the trusted directory: (private key file, trusted dir)."""
    write_key_pair(tmp_path / "licensing.key", tmp_path / "trusted" / "licensing.pem")
    return tmp_path / "licensing.key", tmp_path / "trusted"


def _verifier(
    trusted_dir: Path, receiver: str = "identity", users: auth.TokenVerifier | None = None
) -> ServiceAwareVerifier:
    return ServiceAwareVerifier(
        users, ServiceTokenVerifier(TrustedServiceKeys(trusted_dir), audience_of(receiver))
    )


def test_the_private_key_file_is_owner_only_and_reused(trusted: tuple[Path, Path]) -> None:
    key_file, trusted_dir = trusted
    assert key_file.stat().st_mode & 0o777 == 0o600
    before = key_file.read_bytes()
    write_key_pair(key_file, trusted_dir / "licensing.pem")
    assert key_file.read_bytes() == before


def test_tokens_are_cached_until_shortly_before_expiry(trusted: tuple[Path, Path]) -> None:
    clock = [1_000_000.0]
    source = ServiceTokenSource(
        "licensing", load_private_key(trusted[0]), "identity.gx", ttl_seconds=300, clock=lambda: clock[0]
    )
    first = source.token()
    clock[0] += 200
    assert source.token() == first
    clock[0] += 50  # 250 s: within the last minute of its life
    second = source.token()
    assert second != first
    header = jwt.get_unverified_header(second)
    claims = jwt.decode(second, options={"verify_signature": False})
    assert header["typ"] == TOKEN_TYPE and header["kid"] == key_id(load_private_key(trusted[0]).public_key())
    assert (claims["sub"], claims["iss"], claims["aud"], claims["roles"]) == (
        "service:licensing",
        "service:licensing",
        "identity.gx",
        ["SERVICE"],
    )
    assert claims["exp"] - claims["iat"] == 300


async def test_a_trusted_service_token_yields_the_service_principal(trusted: tuple[Path, Path]) -> None:
    source = ServiceTokenSource("licensing", load_private_key(trusted[0]), audience_of("identity"))
    principal = await _verifier(trusted[1]).verify(source.token())
    assert principal.user_id == "service:licensing"
    assert principal.roles == {auth.ROLE_SERVICE}
    assert service_of(principal) == "licensing"


async def test_a_token_for_another_audience_is_refused(trusted: tuple[Path, Path]) -> None:
    source = ServiceTokenSource("licensing", load_private_key(trusted[0]), audience_of("wallet"))
    with pytest.raises(Unauthenticated) as caught:
        await _verifier(trusted[1], receiver="identity").verify(source.token())
    assert caught.value.reason == "TOKEN_INVALID"


async def test_an_untrusted_key_is_refused(trusted: tuple[Path, Path]) -> None:
    stranger = ServiceTokenSource(
        "licensing", ec.generate_private_key(ec.SECP256R1()), audience_of("identity")
    )
    with pytest.raises(Unauthenticated):
        await _verifier(trusted[1]).verify(stranger.token())


async def test_a_key_cannot_speak_for_another_service(trusted: tuple[Path, Path]) -> None:
    # licensing's key, signing as "wallet": the file name says whose key it is.
    impostor = ServiceTokenSource("wallet", load_private_key(trusted[0]), audience_of("identity"))
    with pytest.raises(Unauthenticated):
        await _verifier(trusted[1]).verify(impostor.token())


async def test_an_expired_service_token_is_refused(trusted: tuple[Path, Path]) -> None:
    old = ServiceTokenSource(
        "licensing", load_private_key(trusted[0]), audience_of("identity"), clock=lambda: time.time() - 3600
    )
    with pytest.raises(Unauthenticated) as caught:
        await _verifier(trusted[1]).verify(old.token())
    assert caught.value.reason == "TOKEN_EXPIRED"


async def test_a_key_added_later_is_picked_up(tmp_path: Path) -> None:
    trusted_dir = tmp_path / "trusted"
    trusted_dir.mkdir()
    keys = TrustedServiceKeys(trusted_dir, min_reload_seconds=0)
    verifier = ServiceAwareVerifier(None, ServiceTokenVerifier(keys, audience_of("identity")))
    write_key_pair(tmp_path / "wallet.key", trusted_dir / "wallet.pem")
    source = ServiceTokenSource("wallet", load_private_key(tmp_path / "wallet.key"), audience_of("identity"))
    assert (await verifier.verify(source.token())).user_id == "service:wallet"


async def test_user_tokens_still_verify_but_never_carry_the_service_role(trusted: tuple[Path, Path]) -> None:
    signer = Signer("user-key")
    users = auth.TokenVerifier(
        auth.StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    verifier = _verifier(trusted[1], users=users)
    principal = await verifier.verify(signer.token(sub="u-1", roles=["USER", "SERVICE", "ROLE_SERVICE"]))
    assert principal.roles == {auth.ROLE_USER}
    assert service_of(principal) is None


async def test_a_user_signed_token_typed_as_service_is_refused(trusted: tuple[Path, Path]) -> None:
    signer = Signer("user-key")
    forged = jwt.encode(
        {
            "sub": "service:licensing",
            "iss": "service:licensing",
            "aud": "identity.gx",
            "roles": ["SERVICE"],
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "jti": "x",
        },
        signer.private_key,
        algorithm="ES256",
        headers={"kid": signer.kid, "typ": TOKEN_TYPE},
    )
    users = auth.TokenVerifier(
        auth.StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    with pytest.raises(Unauthenticated):
        await _verifier(trusted[1], users=users).verify(forged)
