"""The edge's listeners: the public REST/gRPC listener, the plain-HTTP redirect (with TLS), the ops port (Kubernetes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edge.core import BUFFER_LIMIT_BYTES, router_filter, socket_address
from edge.settings import EdgeSettings

_HCM = "envoy.filters.network.http_connection_manager"
_HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)
# The name of the public listener, and its stat prefix.
EDGE_LISTENER = "edge"


def _connection_manager_limits() -> dict[str, Any]:
    """Timeouts and HTTP/2 limits of a public HTTP connection manager."""
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


def _route_config(name: str, routes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "virtual_hosts": [{"name": name, "domains": ["*"], "routes": list(routes)}]}


def _listener(name: str, address: dict[str, Any], manager: dict[str, Any], **options: Any) -> dict[str, Any]:
    """A listener whose one filter chain is an HTTP connection manager (`manager`, without its @type)."""
    return {
        "name": name,
        "address": address,
        **options,
        "filter_chains": [{"filters": [{"name": _HCM, "typed_config": {"@type": _HCM_TYPE, **manager}}]}],
    }


def edge_listener(
    settings: EdgeSettings,
    routes: Sequence[dict[str, Any]],
    http_filters: Sequence[dict[str, Any]],
    access_logs: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The public listener: REST/JSON and native gRPC on one port (`codec_type: AUTO`), hardened."""
    manager = {
        "stat_prefix": EDGE_LISTENER,
        "codec_type": "AUTO",
        # Trusted client address (issue 9): the edge appends the address it saw to
        # x-forwarded-for, after what the client sent, so identity's per-address login limit
        # reads an address the client cannot pick (the Nth entry from the right, N = trusted
        # hops + 1). Only proxies configured as trusted in front of the edge may add entries
        # that count.
        "use_remote_address": True,
        "xff_num_trusted_hops": settings.xff_num_trusted_hops,
        # Token rules and the transcoder match on the path: both must see one canonical form
        # (no "..", no "//").
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": "REJECT_REQUEST",
        **_connection_manager_limits(),
        "route_config": _route_config("gx", routes),
        "http_filters": list(http_filters),
        "access_log": list(access_logs),
    }
    return _listener(
        EDGE_LISTENER,
        socket_address(settings.host, settings.port),
        manager,
        per_connection_buffer_limit_bytes=BUFFER_LIMIT_BYTES,
    )


def redirect_listener(name: str, address: dict[str, Any]) -> dict[str, Any]:
    """Plain HTTP that answers nothing but a 301 to the same URL over https (on the default port)."""
    redirect = {
        "match": {"prefix": "/"},
        "redirect": {"https_redirect": True, "response_code": "MOVED_PERMANENTLY"},
    }
    manager = {
        "stat_prefix": name,
        **_connection_manager_limits(),
        "route_config": _route_config(name, [redirect]),
        "http_filters": [router_filter()],
    }
    return _listener(name, address, manager, per_connection_buffer_limit_bytes=BUFFER_LIMIT_BYTES)


def ops_listener(port: int, admin_cluster: str) -> dict[str, Any]:
    """`/ready` and `/stats/prometheus` of the admin interface (`admin_cluster`) on all interfaces, nothing else.

    The admin interface also serves mutating endpoints (/quitquitquit, /logging), which must
    never be reachable from the network, so only these two paths leave the pod.
    """
    routes: list[dict[str, Any]] = [
        {"match": {"path": path}, "route": {"cluster": admin_cluster}}
        for path in ("/ready", "/stats/prometheus")
    ]
    routes.append({"match": {"prefix": "/"}, "direct_response": {"status": 404}})
    manager = {
        "stat_prefix": "ops",
        "route_config": _route_config("ops", routes),
        "http_filters": [router_filter()],
    }
    # Probes and scrapes still get through when a flood has used up the client connections.
    return _listener("ops", socket_address("0.0.0.0", port), manager, ignore_global_conn_limit=True)


def edge_manager(config: Mapping[str, Any]) -> dict[str, Any]:
    """The public listener's HTTP connection manager in a built configuration (routes, filters, logs)."""
    (listener,) = [item for item in config["static_resources"]["listeners"] if item["name"] == EDGE_LISTENER]
    manager: dict[str, Any] = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return manager
