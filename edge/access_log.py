"""The edge's access logs: one JSON line per request on stdout, and the partner usage stream to licensing."""

from __future__ import annotations

from typing import Any

from edge.core import EXT_AUTHZ_FILTER

_FIELDS = {
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


def stdout_log() -> dict[str, Any]:
    """One JSON line per request on Envoy's stdout (the edge's log)."""
    return {
        "name": "envoy.access_loggers.stdout",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
            "log_format": {"json_format": dict(_FIELDS)},
        },
    }


def partner_usage_log(cluster: str) -> dict[str, Any]:
    """The gRPC access log to licensing's AccessLogService (`cluster`), for metering partner calls."""
    # Only requests the key check let through carry its `license_id` metadata; everything else
    # (unkeyed traffic, refusals, which the decision counted already) is not streamed.
    return {
        "name": "envoy.access_loggers.http_grpc",
        "filter": {
            "metadata_filter": {
                "matcher": {
                    "filter": EXT_AUTHZ_FILTER,
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
