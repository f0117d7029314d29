"""`ext_authz` to licensing: the partner API-key check (issue 8), only for requests that carry a key."""

from __future__ import annotations

from typing import Any

from edge.core import EXT_AUTHZ_FILTER

# edge.lua marks a request carrying X-API-Key in this dynamic-metadata namespace; ext_authz runs
# only for marked requests, so unkeyed traffic never depends on licensing.
EDGE_METADATA = "gx.edge"


def ext_authz_filter(cluster: str, timeout_seconds: float) -> dict[str, Any]:
    """The key check against `cluster` (licensing), failing closed after `timeout_seconds`.

    Its OK answer may add `authorization` (a key alone) or `x-gx-partner-token` (a key with a
    user's bearer token: the proof of the partner the services record on the user's commands).
    The chain must run edge.lua before this filter: it drops every client-sent `x-gx-*` header,
    so a partner header upstream is always the one licensing set (the answer also removes it
    whenever it does not set it).
    """
    return {
        "name": EXT_AUTHZ_FILTER,
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
                "filter": EDGE_METADATA,
                "path": [{"key": "keyed"}],
                "value": {"bool_match": True},
            },
            # The check needs the key and the bearer token, not the body.
            "allowed_headers": {"patterns": [{"exact": "x-api-key"}, {"exact": "authorization"}]},
            "include_peer_certificate": False,
        },
    }
