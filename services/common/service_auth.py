"""Service-to-service credentials: a service's own ES256 key, the short-lived tokens it signs, and their check.

How every GX service calls another as itself (the first one: licensing asking identity to
grant ROLE_PARTNER):

- Each service that calls others holds its own ES256 private key
  (`GX_AUTH__SERVICE_KEY_FILE`, a Kubernetes Secret); nothing else ever holds it.
- For each call it sends `authorization: Bearer <service token>`: a JWT it signs itself with
  header `typ: gx-service+jwt` (explicit typing, RFC 8725 §3.11) and claims
  `iss = sub = service:<name>`, `aud = <target>.gx` (a token for identity is refused by
  wallet), `roles = ["SERVICE"]`, `iat`, `exp` (5 minutes), `jti`. Tokens are cached and
  re-signed shortly before they expire, so a call costs no signature.
- A receiver trusts the public keys in `GX_AUTH__SERVICE_KEYS_DIR` (a ConfigMap): one
  `<service>.pem` (or `<service>.<anything>.pem` during a rotation) per caller; the file
  name, not the token, says which service a key speaks for, so one service's key cannot
  sign for another. The same auth interceptor then checks the access rule: the principal
  is `service:<name>` with ROLE_SERVICE, and the use case decides what that service may do.

Nothing is trusted from a header the edge or a peer could set; a stolen token works for
minutes against one audience. mTLS from a mesh can be added under this without changing it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.common.auth import ROLE_SERVICE, Principal, TokenVerifier
from services.common.errors import Unauthenticated
from services.common.logging import current_traceparent
from services.common.lru import BoundedLru

_log = logging.getLogger("gx.service_auth")

TOKEN_TYPE: Final = "gx-service+jwt"
SUBJECT_PREFIX: Final = "service:"
SERVICE_ROLE_CLAIM: Final = "SERVICE"
_REQUIRED: Final = ["exp", "iat", "sub", "jti", "aud", "iss"]
# Re-sign this long before expiry, so a token never lapses in flight or on a slow clock.
_REFRESH_MARGIN_SECONDS: Final = 60.0


def audience_of(service_name: str) -> str:
    """The `aud` a service's own tokens must carry to reach it (`identity` → `identity.gx`)."""
    return f"{service_name}.gx"


def subject_of(service_name: str) -> str:
    """The principal id of a service (`service:licensing`)."""
    return SUBJECT_PREFIX + service_name


def service_of(principal: Principal) -> str | None:
    """The calling service's name when the principal is a service, else None."""
    if ROLE_SERVICE in principal.roles and principal.user_id.startswith(SUBJECT_PREFIX):
        return principal.user_id.removeprefix(SUBJECT_PREFIX)
    return None


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 7638 JWK thumbprint of a P-256 key: a kid both sides compute, never configured."""
    numbers = public_key.public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    canonical = json.dumps(
        {"crv": "P-256", "kty": "EC", "x": b64(numbers.x), "y": b64(numbers.y)}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A service's P-256 private key from a PEM file."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path} is not a P-256 (ES256) private key")
    return key


def write_key_pair(private_path: Path, public_path: Path) -> None:
    """Create a service key pair unless the private key exists (dev stacks and tests; production uses a Secret).

    The private key file is created 0600 before anything is written to it.
    """
    if private_path.exists():
        if not public_path.exists():
            _write_public(load_private_key(private_path).public_key(), public_path)
        return
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    _write_public(key.public_key(), public_path)


def _write_public(key: ec.EllipticCurvePublicKey, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


class ServiceTokenSource:
    """Signs this service's tokens for one audience, re-using each until shortly before it expires."""

    def __init__(
        self,
        service_name: str,
        private_key: ec.EllipticCurvePrivateKey,
        audience: str,
        *,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the source.

        Args:
            service_name: This service (`licensing`); the token's subject is `service:<name>`.
            private_key: Its ES256 key.
            audience: The receiver's audience (`audience_of("identity")`).
            ttl_seconds: Token lifetime; short, because nothing revokes a service token.
            clock: Wall-clock seconds (tests pass a fake one).
        """
        self._subject = subject_of(service_name)
        self._key = private_key
        self._kid = key_id(private_key.public_key())
        self._audience = audience
        self._ttl = ttl_seconds
        self._clock = clock
        self._token = ""
        self._expires = 0.0

    def token(self) -> str:
        """A valid token for the audience (cached; signing is the only cost and it is rare)."""
        now = self._clock()
        if now < self._expires - min(_REFRESH_MARGIN_SECONDS, self._ttl / 2):
            return self._token
        issued = int(now)
        claims = {
            "iss": self._subject,
            "sub": self._subject,
            "aud": self._audience,
            "roles": [SERVICE_ROLE_CLAIM],
            "iat": issued,
            "exp": issued + int(self._ttl),
            "jti": str(uuid.uuid4()),
        }
        self._token = jwt.encode(
            claims, self._key, algorithm="ES256", headers={"kid": self._kid, "typ": TOKEN_TYPE}
        )
        self._expires = issued + self._ttl
        return self._token

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Call metadata carrying the token."""
        return (("authorization", "Bearer " + self.token()),)


class _BearerInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds the service token, and the current trace, to every unary call of a channel."""

    def __init__(self, source: ServiceTokenSource) -> None:
        self._source = source

    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        metadata = [
            m for m in (client_call_details.metadata or ()) if m[0] not in ("authorization", "traceparent")
        ]
        metadata.extend(self._source.metadata())
        # The serving call's W3C trace goes on with the call (services.common.logging), so the
        # receiver logs under the same trace_id.
        traceparent = current_traceparent()
        if traceparent is not None:
            metadata.append(("traceparent", traceparent))
        details = client_call_details._replace(metadata=metadata)
        return await continuation(details, request)


def service_channel(
    target: str, source: ServiceTokenSource, options: list[tuple[str, Any]] | None = None
) -> grpc.aio.Channel:
    """A channel to another GX service whose calls carry this service's token.

    Args:
        target: `host:port` of the receiver.
        source: Signs the tokens (its audience must be the receiver's).
        options: Extra channel options (e.g. the receiver's retry service config).
    """
    return grpc.aio.insecure_channel(target, options=options or [], interceptors=[_BearerInterceptor(source)])


@dataclass(frozen=True)
class _TrustedKey:
    service: str
    key: ec.EllipticCurvePublicKey


class TrustedServiceKeys:
    """The public keys of the services this process accepts calls from, read from a directory.

    A file `<service>.pem` (or `<service>.<label>.pem`, to hold two keys during a rotation)
    holds one PEM public key. An unknown kid re-reads the directory, at most every
    `min_reload_seconds` (a directory listing is cheap; the bound only stops a flood of forged
    kids from turning into a flood of reads), so a key added to the mounted ConfigMap is picked
    up without a restart.
    """

    def __init__(self, directory: Path, *, min_reload_seconds: float = 1.0) -> None:
        self._dir = directory
        self._min_reload = min_reload_seconds
        self._keys: dict[str, _TrustedKey] = {}
        self._loaded_at = float("-inf")
        self.reload()

    def reload(self) -> None:
        """Read the directory now; unreadable files are logged and skipped."""
        self._loaded_at = time.monotonic()
        keys: dict[str, _TrustedKey] = {}
        for path in sorted(self._dir.glob("*.pem")) if self._dir.is_dir() else ():
            service = path.name.split(".", 1)[0]
            try:
                key = serialization.load_pem_public_key(path.read_bytes())
            except (OSError, ValueError) as exc:
                _log.warning("ignoring service key %s: %s", path, exc)
                continue
            if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
                keys[key_id(key)] = _TrustedKey(service, key)
            else:
                _log.warning("ignoring service key %s: not a P-256 public key", path)
        self._keys = keys

    def lookup(self, kid: str) -> _TrustedKey | None:
        """The key and its service for a kid, or None."""
        found = self._keys.get(kid)
        if found is None and time.monotonic() - self._loaded_at >= self._min_reload:
            self.reload()
            found = self._keys.get(kid)
        return found


class ServiceTokenVerifier:
    """Verifies service tokens addressed to this service."""

    def __init__(
        self,
        keys: TrustedServiceKeys,
        audience: str,
        *,
        leeway_seconds: float = 30.0,
        cache_size: int = 1_000,
    ) -> None:
        self._keys = keys
        self._audience = audience
        self._leeway = leeway_seconds
        # A service re-sends one token for minutes: remember verified ones by exact text.
        self._verified: BoundedLru[str, tuple[Principal, float]] = BoundedLru(cache_size)

    def verify(self, token: str, header: Mapping[str, Any]) -> Principal:
        """Verify a token whose header says it is a service token.

        Raises:
            Unauthenticated: TOKEN_EXPIRED or TOKEN_INVALID.
        """
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() < cached[1]:
                return cached[0]
            self._verified.pop(token)
        kid = header.get("kid")
        trusted = self._keys.lookup(kid) if isinstance(kid, str) else None
        if header.get("alg") != "ES256" or trusted is None:
            raise Unauthenticated("the service token's key is not trusted", reason="TOKEN_INVALID")
        subject = subject_of(trusted.service)
        try:
            claims = jwt.decode(
                token,
                trusted.key,
                algorithms=["ES256"],
                audience=self._audience,
                issuer=subject,
                leeway=self._leeway,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the service token has expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the service token is invalid", reason="TOKEN_INVALID") from None
        # The key file names the service: a key may only speak for its own service.
        if claims.get("sub") != subject or not isinstance(claims.get("jti"), str):
            raise Unauthenticated(
                "the service token's subject does not match its key", reason="TOKEN_INVALID"
            )
        if float(claims["iat"]) > time.time() + self._leeway:
            raise Unauthenticated("the service token is not valid yet", reason="TOKEN_INVALID")
        principal = Principal(
            user_id=subject, roles=frozenset({ROLE_SERVICE}), token_id=claims["jti"], claims=claims
        )
        self._verified.put(token, (principal, float(claims["exp"]) + self._leeway))
        return principal


class ServiceAwareVerifier:
    """Verifies user tokens with the user verifier and service tokens with the service verifier.

    The header's `typ` picks the path; either path still needs a signature from a key it
    trusts, so a forged `typ` gains nothing.
    """

    def __init__(self, users: TokenVerifier | None, services: ServiceTokenVerifier) -> None:
        self._users = users
        self._services = services

    async def verify(self, token: str) -> Principal:
        """Verify a user or service token and return its principal."""
        if self._users is not None and self._users.remembers(token):
            # Only user tokens enter the user verifier's memory (service tokens never reach it),
            # and decoding the header is most of a remembered token's cost: skip it.
            return await self._users.verify(token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("the access token is malformed", reason="TOKEN_INVALID") from None
        if header.get("typ") == TOKEN_TYPE:
            return self._services.verify(token, header)
        if self._users is None:
            raise Unauthenticated("token verification is not configured", reason="TOKEN_INVALID")
        return await self._users.verify(token)


def with_service_tokens(
    users: TokenVerifier | None, keys_dir: str, service_name: str, leeway_seconds: float
) -> ServiceAwareVerifier:
    """A verifier that also accepts service tokens for `service_name`, signed by the keys in `keys_dir`."""
    services = ServiceTokenVerifier(
        TrustedServiceKeys(Path(keys_dir)), audience_of(service_name), leeway_seconds=leeway_seconds
    )
    return ServiceAwareVerifier(users, services)
