"""`grpc_json_transcoder`: REST/JSON to gRPC for every routed gx service, from the descriptor set."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge.core import TRANSCODER_FILTER
from edge.descriptor import Service

_MAX_RESPONSE_BYTES = 4 * 1024 * 1024


def transcoder_filter(
    descriptor: Path, services: Sequence[Service], max_request_bytes: int
) -> dict[str, Any]:
    """The transcoder: lowerCamel JSON out, gRPC status converted, unknown methods and query parameters refused."""
    return {
        "name": TRANSCODER_FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor": str(descriptor),
            "services": [svc.name for svc in services],
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
            "max_request_body_size": max_request_bytes,
            "max_response_body_size": _MAX_RESPONSE_BYTES,
        },
    }
