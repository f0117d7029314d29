"""What every part of the edge configuration shares: filter and cluster names, socket addresses, the buffer bound."""

from __future__ import annotations

from typing import Any

# Reflection and health through the edge let `grpcurl -plaintext EDGE list` work; they reveal
# only the contracts (already public) and liveness, so they need no token. Reflection is one
# service name, so it goes to one process: identity, which reflects every gx service
# (services.common.reflection); grpcurl's calls then follow each service's own route.
INFRA_SERVICES = (
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
    "grpc.health.v1.Health",
)
# The domain whose process answers ext_authz and the access-log stream (the partner edge, issue 8).
LICENSING = "licensing"
# The domains whose processes take the streams the edge sends: identity reflection and health's
# Watch, licensing the partner access log. Behind a lane (unary only) they need their gRPC port too.
STREAMED_DOMAINS = ("identity", LICENSING)

# HTTP filter names: routes refer to them (per-route configuration), and so do the access log's
# metadata filter and the OpenAPI routes, which switch some of them off.
LUA_FILTER = "envoy.filters.http.lua"
EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz"
JWT_FILTER = "envoy.filters.http.jwt_authn"
TRANSCODER_FILTER = "envoy.filters.http.grpc_json_transcoder"
ADDRESS_LIMIT_FILTER = "gx.address_limit"
ROUTER_FILTER = "envoy.filters.http.router"

# The cluster through which jwt_authn fetches the JWKS from the edge's own listener.
SELF_CLUSTER = "edge_self"

# Edge hardening (issue 10), for the dev stack and Kubernetes alike. Envoy's edge best practices:
# bounded buffers, timeouts and HTTP/2 windows, so a slow or hostile client holds at most this
# much memory and time. 64 KiB equals the largest accepted body (max_request_bytes), which the Lua
# validator and the transcoder buffer whole.
BUFFER_LIMIT_BYTES = 64 * 1024


def socket_address(host: str, port: int) -> dict[str, Any]:
    """An Envoy `config.core.v3.Address` for a host and port."""
    return {"socket_address": {"address": host, "port_value": port}}


def router_filter() -> dict[str, Any]:
    """The router, last in every HTTP filter chain."""
    return {
        "name": ROUTER_FILTER,
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    }
