"""The edge's HTTP filter chain, in the order the filters must run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge.core import router_filter
from edge.descriptor import Service, message_shapes
from edge.filters.address_limit import address_limit_filter
from edge.filters.ext_authz import ext_authz_filter
from edge.filters.jwt import jwt_filter
from edge.filters.lua import shaping_filter, validation_filter
from edge.filters.transcoder import transcoder_filter
from edge.settings import EdgeSettings, Upstream


def http_filters(
    settings: EdgeSettings,
    services: Sequence[Service],
    *,
    licensing: Upstream | None,
    address_limited: bool,
) -> list[dict[str, Any]]:
    """The filters of the edge listener.

    Args:
        settings: The edge's settings.
        services: The routed services (transcoded, their public RPCs open, their bodies checked).
        licensing: The process answering the partner key check, or None (no partner edge).
        address_limited: Some route carries a per-address limit, so the limiter must run.
    """
    filters = [shaping_filter()]
    if licensing is not None:
        # Before jwt_authn: for a key alone, licensing sets the partner principal's token on
        # the request, which jwt_authn then verifies like any user token.
        filters.append(ext_authz_filter(licensing.name, settings.ext_authz_timeout_seconds))
    if settings.jwks_upstream is not None and settings.jwks_upstream in settings.upstreams:
        filters.append(jwt_filter(settings, services))
    # After the token check (an anonymous caller learns nothing about bodies) and before the
    # transcoder, which would drop unknown fields.
    filters.append(validation_filter(services, message_shapes(settings.descriptor)))
    filters.append(transcoder_filter(settings.descriptor, services, settings.max_request_bytes))
    if address_limited:
        # After the transcoder, so REST and gRPC requests match the same per-method route.
        filters.append(address_limit_filter())
    filters.append(router_filter())
    return filters
