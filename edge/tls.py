"""HTTPS at the edge (issue 10): used by the Kubernetes edge (manifests/edge_config.py), not the dev stack."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.core import JWT_FILTER, SELF_CLUSTER, socket_address
from edge.listeners import EDGE_LISTENER, edge_manager, redirect_listener

# Mozilla's "intermediate" TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3 suites are
# BoringSSL's fixed, modern set). Old clients without ECDHE/GCM/ChaCha20 are refused.
TLS_CIPHER_SUITES = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)
# Two years, subdomains too (not preload: that is an operator's decision for the domain).
HSTS = "max-age=63072000; includeSubDomains"
_TLS_SOCKET = "envoy.transport_sockets.tls"


@dataclass(frozen=True)
class EdgeTls:
    """HTTPS at the edge.

    Attributes:
        cert_chain: PEM certificate chain (a kubernetes.io/tls Secret's `tls.crt`).
        private_key: Its PEM private key (`tls.key`).
        https_port: Where the TLS listener serves everything the plain listener served; the
            plain port then only redirects to https.
    """

    cert_chain: Path
    private_key: Path
    https_port: int


def _downstream_tls(tls: EdgeTls) -> dict[str, Any]:
    return {
        "name": _TLS_SOCKET,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {
                "tls_params": {
                    "tls_minimum_protocol_version": "TLSv1_2",
                    "tls_maximum_protocol_version": "TLSv1_3",
                    "cipher_suites": list(TLS_CIPHER_SUITES),
                    "ecdh_curves": ["X25519", "P-256"],
                },
                "tls_certificates": [
                    {
                        "certificate_chain": {"filename": str(tls.cert_chain)},
                        "private_key": {"filename": str(tls.private_key)},
                    }
                ],
                "alpn_protocols": ["h2", "http/1.1"],
            },
        },
    }


def add_tls(config: dict[str, Any], tls: EdgeTls) -> dict[str, Any]:
    """Move a `build_config` edge onto HTTPS; return `config`.

    The edge listener keeps every route and filter but moves to `tls.https_port` with the
    certificate, modern TLS parameters and an HSTS header on every answer; its old port becomes a
    listener that redirects to https. Envoy's own JWKS fetch (cluster `edge_self`, through the edge
    listener) follows it over TLS.
    """
    static = config["static_resources"]
    manager = edge_manager(config)
    (edge,) = [item for item in static["listeners"] if item["name"] == EDGE_LISTENER]
    plain_address = edge["address"]
    edge["address"] = socket_address(plain_address["socket_address"]["address"], tls.https_port)
    edge["filter_chains"][0]["transport_socket"] = _downstream_tls(tls)
    for virtual_host in manager["route_config"]["virtual_hosts"]:
        virtual_host.setdefault("response_headers_to_add", []).append(
            {
                "header": {"key": "strict-transport-security", "value": HSTS},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            }
        )
    static["listeners"].insert(
        static["listeners"].index(edge) + 1, redirect_listener("edge_redirect", plain_address)
    )
    for cluster in static["clusters"]:
        if cluster["name"] == SELF_CLUSTER:
            endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
            endpoint["address"]["socket_address"]["port_value"] = tls.https_port
            # Its own certificate, over loopback: no name to verify it against.
            cluster["transport_socket"] = {
                "name": _TLS_SOCKET,
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
                },
            }
    for http_filter in manager["http_filters"]:
        if http_filter["name"] == JWT_FILTER:
            for provider in http_filter["typed_config"]["providers"].values():
                uri = provider["remote_jwks"]["http_uri"]
                old = urllib.parse.urlsplit(uri["uri"])
                uri["uri"] = urllib.parse.urlunsplit(
                    ("https", f"{old.hostname}:{tls.https_port}", old.path, old.query, "")
                )
    return config
