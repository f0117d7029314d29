"""`build_config`: Envoy's whole bootstrap for the edge, composed from its listeners, routes, filters and clusters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge import access_log, clusters, listeners, routes
from edge.core import JWT_FILTER, LICENSING, socket_address
from edge.descriptor import Service
from edge.errors import EdgeConfigError
from edge.filters.chain import http_filters
from edge.settings import EdgeSettings


def _overload_manager(max_connections: int) -> dict[str, Any]:
    # A bound on open client connections, so a flood cannot exhaust file descriptors.
    return {
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                    "max_active_downstream_connections": max_connections,
                },
            }
        ]
    }


def build_config(settings: EdgeSettings, services: Sequence[Service]) -> dict[str, Any]:
    """Build Envoy's bootstrap configuration (a JSON-serialisable dict).

    Args:
        settings: Addresses, descriptor and auth settings.
        services: The gx services in the descriptor (see `edge.descriptor.read_services`).
            Only those whose domain has an upstream are transcoded and routed.

    Returns:
        The configuration; write it as JSON and pass it to `envoy -c`.

    Raises:
        EdgeConfigError: No service in the descriptor has an upstream.
    """
    routed = [s for s in services if s.domain in settings.upstreams]
    if not routed:
        raise EdgeConfigError("envoy: no gx service in the descriptor has a process to route to")
    licensing = settings.upstreams.get(LICENSING)
    limited = routes.address_limit_routes(settings, routed)
    filters = http_filters(settings, routed, licensing=licensing, address_limited=bool(limited))
    logs = [access_log.stdout_log()] if settings.access_log else []
    if licensing is not None:
        # A client stream: on licensing's gRPC port when its routes and key checks go to its lane.
        logs.append(access_log.partner_usage_log(settings.stream_upstream(LICENSING).name))
    edge = listeners.edge_listener(
        settings,
        routes.edge_routes(settings, routed, limited=limited, catch_all=licensing is not None),
        filters,
        logs,
    )
    cluster_list = clusters.upstream_clusters(settings, routed)
    if any(f["name"] == JWT_FILTER for f in filters):
        cluster_list.append(clusters.self_cluster(settings))
    return {
        "admin": {"address": socket_address(settings.host, settings.admin_port)},
        "overload_manager": _overload_manager(settings.max_connections),
        "static_resources": {"listeners": [edge], "clusters": cluster_list},
    }
