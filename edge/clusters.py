"""The edge's clusters: one per gRPC process behind it (HTTP/2, gRPC health checked), and plain static ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge.core import BUFFER_LIMIT_BYTES, SELF_CLUSTER, socket_address
from edge.descriptor import Service
from edge.settings import EdgeSettings, Upstream


def upstream_cluster(upstream: Upstream) -> dict[str, Any]:
    """A gRPC process: HTTP/2, active gRPC health checks, bounded per-connection buffers."""
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
                {"lb_endpoints": [{"endpoint": {"address": socket_address(upstream.host, upstream.port)}}]}
            ],
        },
        "per_connection_buffer_limit_bytes": BUFFER_LIMIT_BYTES,
    }


def static_cluster(name: str, host: str, port: int) -> dict[str, Any]:
    """A plain cluster of one fixed address (HTTP/1.1, no health check)."""
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket_address(host, port)}}]}],
        },
    }


def self_cluster(settings: EdgeSettings) -> dict[str, Any]:
    """The edge's own listener, for jwt_authn's JWKS fetch.

    Identity serves the JWKS only as a transcoded gRPC method, so the REST listener is where the
    JSON document exists.
    """
    return static_cluster(SELF_CLUSTER, settings.host, settings.port)


def upstream_clusters(settings: EdgeSettings, services: Sequence[Service]) -> list[dict[str, Any]]:
    """One cluster per process that serves a routed service, by name, and one per stream upstream."""
    used = {settings.upstreams[s.domain].name: settings.upstreams[s.domain] for s in services}
    used |= {u.name: u for u in settings.stream_upstreams.values()}
    return [upstream_cluster(used[name]) for name in sorted(used)]


def resolve_by_dns(cluster: dict[str, Any]) -> None:
    """Make `cluster` resolve its address by DNS, re-resolved every few seconds.

    For headless Kubernetes Services, which resolve to every ready pod: Envoy then balances per
    request over all of them, and scaling and rollouts reach the edge within seconds.
    """
    cluster["type"] = "STRICT_DNS"
    cluster["dns_lookup_family"] = "V4_ONLY"
    cluster["dns_refresh_rate"] = "5s"
    cluster["respect_dns_ttl"] = True
