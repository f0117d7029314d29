"""The edge listener's routes: one per gRPC service, reflection and health, the per-address limited methods, the catch-all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge.core import INFRA_SERVICES
from edge.descriptor import Service
from edge.filters import address_limit
from edge.settings import ADDRESS_LIMITED_METHODS, EdgeSettings


def _service(path: str) -> str:
    return path.split("/")[1]


def address_limit_routes(settings: EdgeSettings, services: Sequence[Service]) -> list[dict[str, Any]]:
    """A route for each unauthenticated method with a per-address limit whose service is routed.

    The transcoder has rewritten REST paths to the gRPC path by the time the limiter runs (it sits
    after the transcoder), so one route covers REST and native gRPC alike.
    """
    owners = {svc.name: settings.upstreams[svc.domain].name for svc in services}
    return [
        {
            "name": f"address_limit_{name}",
            "match": {"path": path},
            "route": {"cluster": owners[_service(path)], "timeout": "60s"},
            "typed_per_filter_config": address_limit.per_route(name, settings.address_limits[name]),
        }
        for name, path in ADDRESS_LIMITED_METHODS.items()
        if settings.address_limits.get(name, 0) > 0 and _service(path) in owners
    ]


def edge_routes(
    settings: EdgeSettings,
    services: Sequence[Service],
    *,
    limited: Sequence[dict[str, Any]],
    catch_all: bool,
) -> list[dict[str, Any]]:
    """Every route of the edge listener, in match order.

    Args:
        settings: The edge's settings.
        services: The routed services (each has an upstream).
        limited: The per-address limited routes (`address_limit_routes`).
        catch_all: End with a 404 route that matches everything (needed by ext_authz).
    """
    routes: list[dict[str, Any]] = [
        {
            "match": {"prefix": f"/{svc.name}/"},
            "route": {"cluster": settings.upstreams[svc.domain].name, "timeout": "60s"},
        }
        for svc in services
    ]
    infra_domain = "identity" if "identity" in settings.upstreams else services[0].domain
    infra_cluster = settings.stream_upstream(infra_domain).name
    routes += [
        {"match": {"prefix": f"/{name}/"}, "route": {"cluster": infra_cluster, "timeout": "0s"}}
        for name in INFRA_SERVICES
    ]
    # Exact paths first: the per-service prefixes would match them too.
    routes = [*limited, *routes]
    if catch_all:
        # ext_authz skips requests that match no route, and a REST path matches none until the
        # transcoder has turned it into a gRPC path. This last route gives every request one
        # while the key is checked; the transcoder then re-routes to the service's prefix, and
        # a path it could not map ends here as a plain 404, as it did without a route.
        routes.append(
            {
                "name": "unmatched",
                "match": {"prefix": "/"},
                "direct_response": {"status": 404, "body": {"inline_string": "no route for this path"}},
            }
        )
    return routes
