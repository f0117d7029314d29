"""What the edge configuration depends on: the upstreams, addresses, token checks and limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The unauthenticated routes limited per client address, by the name used in configuration.
ADDRESS_LIMITED_METHODS: dict[str, str] = {
    "register": "/gx.identity.v1.IdentityService/RegisterUser",
    "login": "/gx.identity.v1.IdentityService/Login",
    "refresh": "/gx.identity.v1.IdentityService/RefreshToken",
    "apply": "/gx.licensing.v1.LicensingService/CreatePartner",
}
# Requests per minute per client address (and the burst: a minute's worth at once). A person
# signing up, logging in or applying never comes near; a script does within seconds.
DEFAULT_ADDRESS_LIMITS: dict[str, int] = {"register": 60, "login": 120, "refresh": 120, "apply": 20}


def address_limits_from_env(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Per-address limits: the defaults, overridden by `GX_EDGE_ADDRESS_LIMITS` (`register=10,login=30`; 0 = off).

    Raises:
        ValueError: On an unknown route name or a value that is not a whole number >= 0.
    """
    limits = dict(DEFAULT_ADDRESS_LIMITS)
    text = (environ if environ is not None else os.environ).get("GX_EDGE_ADDRESS_LIMITS", "")
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = entry.partition("=")
        if name not in ADDRESS_LIMITED_METHODS or not value.strip().isdigit():
            raise ValueError(
                f"GX_EDGE_ADDRESS_LIMITS: bad entry {entry!r}; want one of {sorted(ADDRESS_LIMITED_METHODS)}=N"
            )
        limits[name] = int(value)
    return limits


@dataclass(frozen=True)
class Upstream:
    """A gRPC process behind the edge.

    Attributes:
        name: The part name, also the cluster name (identity, wallet, licensing).
        host: Its gRPC host.
        port: Its gRPC port.
    """

    name: str
    host: str
    port: int


@dataclass(frozen=True)
class EdgeSettings:
    """Everything the edge configuration depends on.

    Attributes:
        host: Listen address of the REST/gRPC listener and the admin interface.
        port: The edge port (REST and native gRPC).
        admin_port: The admin interface port (`/ready`, `/clusters`, `/stats`).
        descriptor: Path of the descriptor set.
        upstreams: The gRPC process serving each proto domain (`identity` → Upstream(identity),
            `ops` → Upstream(outbox)); one cluster per process.
        jwt_issuer: Expected `iss` of user tokens.
        jwt_audience: Expected `aud` of user tokens.
        jwks_upstream: Domain whose `GET /.well-known/jwks.json` publishes the signing keys, or
            None to run without edge token checks (only when no identity process exists).
        max_request_bytes: Largest accepted REST request body.
        jwks_cache_seconds: How long Envoy keeps the key set before fetching it again. Identity
            must publish a new key at least this long before signing with it.
        stream_upstreams: By domain, the gRPC port of a service whose `upstreams` entry is its
            edge lane, which serves unary calls only: the streams the edge sends go there
            (reflection and health to identity's; the partner access log to licensing's).
        jwt_cache_size: Verified tokens each Envoy worker remembers (by their exact text), so a
            client's next call with the same token skips the ES256 check; 0 turns it off.
        access_log: Write one JSON line per request to Envoy's stdout (the edge log).
        max_connections: Most client connections open at once.
        xff_num_trusted_hops: Proxies in front of the edge whose `x-forwarded-for` entries are
            believed (0: the edge faces clients, or an L4 load balancer keeps their address).
            Identity's `GX_IDENTITY__TRUSTED_HOPS` must be this + 1.
        ext_authz_timeout_seconds: How long the edge waits for licensing's key decision
            before answering 503 (keyed requests fail closed).
        address_limits: Requests per minute per client address on the unauthenticated
            routes (`ADDRESS_LIMITED_METHODS`); 0 turns one off. Per Envoy process.
    """

    host: str
    port: int
    admin_port: int
    descriptor: Path
    upstreams: Mapping[str, Upstream]
    jwt_issuer: str = "gx-identity"
    jwt_audience: str = "gx-api"
    jwks_upstream: str | None = "identity"
    max_request_bytes: int = 64 * 1024
    jwks_cache_seconds: int = 300
    stream_upstreams: Mapping[str, Upstream] = field(default_factory=dict)
    jwt_cache_size: int = 4096
    access_log: bool = True
    max_connections: int = 10_000
    xff_num_trusted_hops: int = 0
    ext_authz_timeout_seconds: float = 1.0
    address_limits: Mapping[str, int] = field(default_factory=address_limits_from_env)

    def stream_upstream(self, domain: str) -> Upstream:
        """The process that takes `domain`'s streams: its gRPC port when its routes go to a lane."""
        return self.stream_upstreams.get(domain) or self.upstreams[domain]
