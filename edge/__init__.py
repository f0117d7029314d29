"""The GX edge: Envoy's configuration, generated from the protos' descriptor set, and its Lua.

The dev stack (`devstack`, which launches the Envoy binary) and the Kubernetes init container
(`manifests.edge_config`) both build the edge from here, so the two cannot drift. This package
reads no environment on import and imports nothing of either caller.

The surface:
    build_config: The whole bootstrap (listeners, routes, filters, clusters) for some settings.
    EdgeSettings, Upstream: What the configuration depends on.
    add_tls, EdgeTls: Move a built edge onto HTTPS.
    add_openapi_routes: Serve `/openapi.json` and `/docs` from the edge itself.
    read_services, build_descriptor: The descriptor set the configuration is derived from.
"""

from __future__ import annotations

from edge.bootstrap import build_config
from edge.core import STREAMED_DOMAINS
from edge.descriptor import build as build_descriptor
from edge.descriptor import read_services
from edge.errors import EdgeConfigError
from edge.openapi import add_route as add_openapi_routes
from edge.settings import ADDRESS_LIMITED_METHODS, EdgeSettings, Upstream, address_limits_from_env
from edge.tls import HSTS, EdgeTls, add_tls

__all__ = [
    "ADDRESS_LIMITED_METHODS",
    "HSTS",
    "STREAMED_DOMAINS",
    "EdgeConfigError",
    "EdgeSettings",
    "EdgeTls",
    "Upstream",
    "add_openapi_routes",
    "add_tls",
    "address_limits_from_env",
    "build_config",
    "build_descriptor",
    "read_services",
]
