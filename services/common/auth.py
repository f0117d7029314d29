"""Access tokens: ES256 JWT verification, the JWKS cache, the principal, and the auth interceptor."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from google.api import annotations_pb2, http_pb2, httpbody_pb2
from google.protobuf import descriptor_pool
from gx.type.v1 import access_pb2
from jwt.algorithms import ECAlgorithm
from redis.exceptions import RedisError

from services.common.errors import PermissionDenied, Unauthenticated, Unavailable
from services.common.logging import user_id_var
from services.common.lru import BoundedLru
from services.common.revocation import RevocationList
from services.common.rpc import BehaviorInterceptor, CallInfo, NextStream, NextUnary, metadata_value

_log = logging.getLogger("gx.auth")

ROLE_USER: Final = access_pb2.ROLE_USER
ROLE_ADMIN: Final = access_pb2.ROLE_ADMIN
ROLE_SUPER_ADMIN: Final = access_pb2.ROLE_SUPER_ADMIN
ROLE_PARTNER: Final = access_pb2.ROLE_PARTNER
ROLE_SERVICE: Final = access_pb2.ROLE_SERVICE

# Short claim names (as identity writes them) and full enum names both map to the enum.
_ROLE_BY_NAME: Final[dict[str, int]] = {
    **{name.removeprefix("ROLE_"): number for name, number in access_pb2.Role.items() if number},
    **{name: number for name, number in access_pb2.Role.items() if number},
}
# Health and reflection must answer probes and grpcurl without a token.
ALWAYS_PUBLIC: Final = frozenset({"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"})


# A partner principal (the edge's key-only requests): identity mints its token with
# `sub = partner:<partner id>`, ROLE_PARTNER only, and the partner id in its own claim. No user
# id can take this form, so such a caller is never mistaken for a user.
PARTNER_SUBJECT_PREFIX: Final = "partner:"
PARTNER_ID_CLAIM: Final = "partner_id"
# A user's request sent with a partner's API key stays the user's, and the edge proves the
# partner to the services with the partner principal's token in this header (set by licensing's
# ext_authz; every client-sent `x-gx-*` header is dropped by edge.lua before that). It is a JWT
# identity signed, verified like any token: a header alone is never trusted.
PARTNER_TOKEN_HEADER: Final = "x-gx-partner-token"


def partner_of(principal: Principal) -> str | None:
    """The partner id when the caller is a partner principal, else None."""
    claimed = principal.claims.get(PARTNER_ID_CLAIM)
    if (
        ROLE_PARTNER in principal.roles
        and isinstance(claimed, str)
        and principal.user_id == PARTNER_SUBJECT_PREFIX + claimed
    ):
        return str(claimed)
    return None


def role_claim_name(role: int) -> str:
    """The `roles` claim spelling of a role (`ADMIN` for ROLE_ADMIN)."""
    return str(access_pb2.Role.Name(role)).removeprefix("ROLE_")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of the current RPC.

    Attributes:
        user_id: The token's `sub`.
        roles: `gx.type.v1.Role` numbers the token grants.
        token_id: The token's `jti`.
        claims: Every verified claim, for rare needs (e.g. `exp`).
        partner_id: The partner whose API key the request came with, for attribution only (the
            outbox records it, webhooks fire for it), never for access: the principal itself when
            it is a partner principal (the key alone), else the partner the edge proved with
            `x-gx-partner-token` (a key with a user's bearer token); None without a key.
    """

    user_id: str
    roles: frozenset[int]
    token_id: str
    claims: Mapping[str, Any]
    partner_id: str | None = None

    def has_any(self, *roles: int) -> bool:
        """Whether the caller holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_admin(self) -> bool:
        """ADMIN or SUPER_ADMIN: the operators who may act on other users' data."""
        return self.has_any(ROLE_ADMIN, ROLE_SUPER_ADMIN)


_principal_var: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "gx_principal", default=None
)


def current_principal() -> Principal | None:
    """The caller of the current RPC, or None (public RPC without a token)."""
    return _principal_var.get()


def require_principal() -> Principal:
    """The caller of the current RPC; UNAUTHENTICATED when there is none."""
    principal = _principal_var.get()
    if principal is None:
        raise Unauthenticated("an access token is required", reason="TOKEN_MISSING")
    return principal


def set_principal(principal: Principal | None) -> contextvars.Token[Principal | None]:
    """Set the principal (the interceptor does this; tests and workers may too)."""
    return _principal_var.set(principal)


def reset_principal(token: contextvars.Token[Principal | None]) -> None:
    """Undo a `set_principal` (the call is over)."""
    _principal_var.reset(token)


class KeySource(Protocol):
    """Finds the public key for a `kid`."""

    async def key_for(self, kid: str) -> Any | None:
        """The verification key, or None when the kid is unknown."""


class StaticKeySource:
    """A fixed set of keys (tests, benchmarks)."""

    def __init__(self, keys: Mapping[str, ec.EllipticCurvePublicKey]) -> None:
        self._keys = dict(keys)

    async def key_for(self, kid: str) -> Any | None:
        return self._keys.get(kid)


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, ec.EllipticCurvePublicKey]:
    """Parse the P-256 keys of a JWKS document by kid; other keys are ignored."""
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    for jwk in jwks.get("keys", ()):
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or not jwk.get("kid"):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            key = ECAlgorithm.from_jwk(json.dumps(jwk))
        except (jwt.InvalidKeyError, ValueError):
            _log.warning("ignoring a malformed JWK %s", jwk.get("kid"))
            continue
        if isinstance(key, ec.EllipticCurvePublicKey):
            keys[str(jwk["kid"])] = key
    return keys


JwksFetch = Callable[[], Awaitable[Mapping[str, Any]]]


class JwksCache:
    """Keys from a JWKS source, cached, refreshed on an unknown kid at a bounded rate.

    Identity passes a fetch that reads its own key store; other services use
    `GrpcJwksFetcher`, which calls identity's GetJwks.
    """

    def __init__(
        self, fetch: JwksFetch, *, min_refresh_seconds: float = 10.0, ttl_seconds: float = 300.0
    ) -> None:
        self._fetch = fetch
        self._min_refresh = min_refresh_seconds
        self._ttl = ttl_seconds
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._completed_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Fetch the keys now (coalesced: concurrent callers share one fetch)."""
        started = time.monotonic()
        async with self._lock:
            # A fetch that finished after we asked already answers us.
            if self._completed_at >= started:
                return
            self._attempted_at = time.monotonic()
            try:
                keys = keys_from_jwks(await self._fetch())
            except Exception as exc:
                # Keep the old keys: identity being briefly down must not log everyone out.
                _log.warning("JWKS refresh failed: %s", exc)
                return
            finally:
                self._completed_at = time.monotonic()
            self._keys = keys
            self._fetched_at = self._completed_at

    async def key_for(self, kid: str) -> Any | None:
        now = time.monotonic()
        stale = now - self._fetched_at > self._ttl
        unknown = kid not in self._keys
        if stale or unknown:
            if now - self._attempted_at >= self._min_refresh:
                await self.refresh()
            elif unknown and self._lock.locked():
                # Another call's fetch is under way (it set `_attempted_at` as it began): its
                # keys are the answer. Reading the old ones now would refuse every token of a
                # burst that arrives with the first use of a key (or of a fresh process) but one.
                async with self._lock:
                    pass
        return self._keys.get(kid)


class GrpcJwksFetcher:
    """Fetches the JWKS JSON from identity's GetJwks (a `google.api.HttpBody`) over gRPC."""

    def __init__(
        self, target: str, method: str = "/gx.identity.v1.IdentityService/GetJwks", timeout: float = 3.0
    ) -> None:
        self._target = target
        self._method = method
        self._timeout = timeout
        self._channel: grpc.aio.Channel | None = None

    async def __call__(self) -> Mapping[str, Any]:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self._target)
        # GetJwksRequest is empty, so its wire form is empty too: no need to import
        # identity's generated code into the shared runtime.
        call = self._channel.unary_unary(
            self._method,
            request_serializer=lambda _: b"",
            response_deserializer=httpbody_pb2.HttpBody.FromString,
        )
        body = await call(None, timeout=self._timeout)
        result: Mapping[str, Any] = json.loads(body.data)
        return result

    async def aclose(self) -> None:
        """Close the channel."""
        if self._channel is not None:
            await self._channel.close()
            self._channel = None


_REQUIRED_CLAIMS: Final = ["exp", "iat", "sub", "jti", "aud", "iss"]


@dataclass(frozen=True)
class _Verified:
    """A verified token remembered by `TokenVerifier`: its principal, its key and when it lapses."""

    principal: Principal
    kid: str
    key: Any
    valid_until: float


class TokenVerifier:
    """Verifies ES256 access tokens; a plain class, usable outside gRPC.

    Only ES256 is accepted: `none`, HS* (the classic public-key-as-HMAC-secret confusion)
    and every other algorithm are refused before any key is looked up.

    A client sends the same token on every call until it expires, and checking an ES256
    signature is the largest cost of a cheap read, so verified tokens are remembered by
    their exact text in a bounded LRU. A remembered token still fails once expired (same
    leeway as the full check) and once its signing key is no longer the key source's
    key for its kid; any other text (a tampered token) gets the full verification.
    """

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: float = 30.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the verifier.

        Args:
            keys: Finds the verification key for a kid.
            issuer: The required `iss`.
            audience: The required `aud`.
            leeway_seconds: Tolerated clock skew for `exp`, `nbf` and `iat`.
            cache_size: How many verified tokens to remember; 0 turns the cache off.
            clock: Wall-clock seconds (tests pass a fake one).
        """
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._clock = clock
        self._verified: BoundedLru[str, _Verified] = BoundedLru(cache_size)

    def remembers(self, token: str) -> bool:
        """Whether this exact token text was verified before (and `verify` may answer from memory).

        A front that must look at the header first (services.common.service_auth) asks this to
        skip decoding it on every call of a client it has seen already.
        """
        return token in self._verified

    async def verify(self, token: str) -> Principal:
        """Verify a compact JWT and return its principal.

        Raises:
            Unauthenticated: reason TOKEN_EXPIRED or TOKEN_INVALID.
        """
        cached = self._verified.get(token)
        if cached is not None:
            # Compared with the same bound as PyJWT's exp check (exp <= now - leeway fails).
            if self._clock() < cached.valid_until and await self._keys.key_for(cached.kid) is cached.key:
                return cached.principal
            # Expired or its key is gone: forget it and let the full check give the reason.
            self._verified.pop(token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("the access token is malformed", reason="TOKEN_INVALID") from None
        if header.get("alg") != "ES256":
            raise Unauthenticated("the access token's algorithm is not accepted", reason="TOKEN_INVALID")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the access token names no signing key", reason="TOKEN_INVALID")
        key = await self._keys.key_for(kid)
        if key is None:
            raise Unauthenticated("the access token's signing key is unknown", reason="TOKEN_INVALID")
        principal = self.verify_with_key(token, key)
        self._verified.put(
            token, _Verified(principal, kid, key, float(principal.claims["exp"]) + self._leeway)
        )
        return principal

    def verify_with_key(self, token: str, key: Any) -> Principal:
        """Verify against a known key (the synchronous core of `verify`)."""
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["ES256"],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the access token has expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the access token is invalid", reason="TOKEN_INVALID") from None
        iat = claims["iat"]
        if not isinstance(iat, (int, float)) or iat > time.time() + self._leeway:
            raise Unauthenticated("the access token is not valid yet", reason="TOKEN_INVALID")
        sub, jti, roles = claims.get("sub"), claims.get("jti"), claims.get("roles", [])
        if not isinstance(sub, str) or not sub or not isinstance(jti, str) or not jti:
            raise Unauthenticated("the access token lacks its subject or id", reason="TOKEN_INVALID")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated("the access token's roles are malformed", reason="TOKEN_INVALID")
        # ROLE_SERVICE comes only from a service token (services.common.service_auth): a user
        # token claiming it is not honoured, whoever signed it.
        granted = frozenset(_ROLE_BY_NAME[r] for r in roles if r in _ROLE_BY_NAME) - {ROLE_SERVICE}
        principal = Principal(user_id=sub, roles=granted, token_id=jti, claims=claims)
        # A partner principal acts for itself: its own requests are attributed to it.
        return replace(principal, partner_id=partner_of(principal))


def bearer_token(value: str | None) -> str | None:
    """The token of an `authorization: Bearer <token>` value, or None."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


_READ_PREFIXES: Final = ("Get", "List")
_reads: dict[str, bool] = {}


def is_read(info: CallInfo) -> bool:
    """Whether a method only reads: its HTTP rule is a GET, or it is named Get…/List…
    (methods without an HTTP rule). Anything else counts as a write."""
    known = _reads.get(info.full_method)
    if known is not None:
        return known
    read = info.method.startswith(_READ_PREFIXES)
    try:
        desc = descriptor_pool.Default().FindMethodByName(f"{info.service}.{info.method}")
    except KeyError:
        desc = None
    if desc is not None and desc.GetOptions().HasExtension(annotations_pb2.http):
        rule: http_pb2.HttpRule = desc.GetOptions().Extensions[annotations_pb2.http]
        read = rule.WhichOneof("pattern") == "get"
    _reads[info.full_method] = read
    return read


class Verifier(Protocol):
    """What the auth interceptor needs: a token in, its principal out (TokenVerifier, or one that
    also accepts service tokens, services.common.service_auth.ServiceAwareVerifier)."""

    async def verify(self, token: str) -> Principal:
        """The token's principal; raises Unauthenticated when it is not valid."""


class AuthInterceptor(BehaviorInterceptor):
    """Authenticates the bearer token and enforces each method's `gx.type.v1.access` rule.

    The token is verified here, by the service itself: a header set by the edge is never
    trusted. The partner a keyed user request came with arrives as a token too
    (`x-gx-partner-token`), verified the same way and put on the principal as `partner_id`. A method without the option admits any authenticated caller. A verified token
    is then checked against the revocation deny-list (services.common.revocation), so a
    frozen user's, a demoted user's or a logged-out token stops working within a second.
    """

    def __init__(
        self,
        verifier: Verifier | None,
        public: Iterable[str] = (),
        revocations: RevocationList | None = None,
    ) -> None:
        """Create the interceptor.

        Args:
            verifier: Verifies tokens; None refuses every non-public call.
            public: Extra service or method names (`pkg.Svc` or `/pkg.Svc/Method`) that
                need no token, for services whose protos we do not own (e.g. Envoy's ext_authz).
            revocations: The deny-list; None skips the check (a process without Redis).
        """
        super().__init__()
        self._verifier = verifier
        self._public = ALWAYS_PUBLIC | frozenset(public)
        self._revocations = revocations
        self._outage_logged_at = float("-inf")
        self._rules: dict[str, tuple[bool, frozenset[int]]] = {}

    def _rule(self, info: CallInfo) -> tuple[bool, frozenset[int]]:
        """The method's access rule as (public, roles: any of them admits), worked out on its first
        call: the option is a message, and reading its fields on every call cost more than the rule."""
        rule = self._rules.get(info.full_method)
        if rule is None:
            public = (
                info.service in self._public
                or info.full_method in self._public
                or (info.access is not None and info.access.public)
            )
            roles = frozenset(info.access.roles) if info.access is not None else frozenset()
            rule = self._rules[info.full_method] = (public, roles)
        return rule

    async def _authenticate(self, info: CallInfo, context: grpc.aio.ServicerContext) -> Principal | None:
        public, roles = self._rule(info)
        token = bearer_token(metadata_value(context, "authorization"))
        if token is None:
            if public:
                return None
            raise Unauthenticated("an access token is required", reason="TOKEN_MISSING")
        if self._verifier is None:
            if public:
                return None
            raise Unauthenticated("token verification is not configured", reason="TOKEN_INVALID")
        try:
            principal = await self._verifier.verify(token)
            await self._check_revocation(info, principal)
        except (Unauthenticated, Unavailable):
            # A stale token must not stop a public call such as login or refresh.
            if public:
                return None
            raise
        if not public and roles and roles.isdisjoint(principal.roles):
            # In the option's order, as before (roles is non-empty only when the option is set).
            declared = info.access.roles if info.access is not None else ()
            raise PermissionDenied(
                "the caller lacks the role this method requires",
                reason="ROLE_REQUIRED",
                metadata={"required_roles": ",".join(role_claim_name(r) for r in declared)},
            )
        return principal

    async def _with_acting_partner(
        self, context: grpc.aio.ServicerContext, principal: Principal | None
    ) -> Principal | None:
        """The principal with the partner `x-gx-partner-token` proves, when the request carries one.

        The header is verified whenever it is present, public method or not: the edge only ever
        sends a valid one, so anything else is forged or misrouted and is refused, never ignored.
        It must be a partner principal's token; a user's or a service's token proves no partner.
        No revocation check: identity never revokes a partner subject; a suspended partner or a
        revoked key is refused by the edge's key check, which is what mints the header.
        """
        token = metadata_value(context, PARTNER_TOKEN_HEADER)
        if token is None:
            return principal
        if self._verifier is None:
            raise Unauthenticated("token verification is not configured", reason="PARTNER_TOKEN_INVALID")
        try:
            partner = partner_of(await self._verifier.verify(token))
        except Unauthenticated:
            partner = None
        if partner is None:
            raise Unauthenticated("the partner credential is not valid", reason="PARTNER_TOKEN_INVALID")
        if principal is None:
            return None
        if principal.partner_id is not None and principal.partner_id != partner:
            # A partner principal acting for another partner: two credentials that disagree.
            raise Unauthenticated(
                "the partner credential names another partner", reason="PARTNER_TOKEN_INVALID"
            )
        return replace(principal, partner_id=partner)

    async def _check_revocation(self, info: CallInfo, principal: Principal) -> None:
        if self._revocations is None:
            return
        try:
            revoked = await self._revocations.is_revoked(principal.claims)
        except RedisError as exc:
            # Without the deny-list a revoked token cannot be told apart. A write must not
            # run on a token that may have been revoked: fail closed. A read shows only what
            # the token could see when it was issued, at most 15 minutes ago: let it through
            # so a Redis outage does not take every read down, and log it.
            read = is_read(info)
            now = time.monotonic()
            if now - self._outage_logged_at >= 1.0:
                # Once a second at most: an outage must not turn every call into a log line.
                self._outage_logged_at = now
                _log.error(
                    "revocation check unavailable (reads allowed, writes refused): %s %s: %s",
                    "read" if read else "write",
                    info.full_method,
                    exc,
                )
            if read:
                return
            raise Unavailable(
                "cannot check whether the access token was revoked; retry shortly",
                reason="REVOCATION_CHECK_UNAVAILABLE",
            ) from None
        if revoked:
            raise Unauthenticated("the access token has been revoked", reason="TOKEN_REVOKED")

    async def principal_for(self, info: CallInfo, context: grpc.aio.ServicerContext) -> Principal | None:
        """The call's principal: token verified and not revoked, role rule met, acting partner
        proven (None on a public method without a usable token).

        Raises:
            GxError: UNAUTHENTICATED, PERMISSION_DENIED or UNAVAILABLE, with its reason.
        """
        return await self._with_acting_partner(context, await self._authenticate(info, context))

    async def unary(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        principal = await self.principal_for(info, context)
        token = _principal_var.set(principal)
        user = user_id_var.set(principal.user_id if principal else None)
        try:
            return await call_next(request, context)
        finally:
            user_id_var.reset(user)
            _principal_var.reset(token)

    async def stream(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextStream
    ) -> AsyncIterator[Any]:
        principal = await self.principal_for(info, context)
        _principal_var.set(principal)
        user_id_var.set(principal.user_id if principal else None)
        async for item in call_next(request, context):
            yield item
