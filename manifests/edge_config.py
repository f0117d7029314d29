"""Render the Kubernetes edge's Envoy configuration from the image's own descriptor set.

The edge pod runs this as an init container (`python -m manifests.edge_config --out ...`) in the
gx-mesh image, so the routes, the public/authenticated split and the request schemas always come
from the protos baked into the same image: there is no hand-kept Envoy file to drift from them.
It uses the edge package's generator (`edge.build_config`, the dev stack's too) and changes only
what differs in a cluster: upstreams are DNS names of headless Services (so Envoy balances per
request over every pod instead of pinning one HTTP/2 connection to a virtual IP), the admin
interface stays on loopback, and a separate ops listener exposes just `/ready` and
`/stats/prometheus`. With a certificate (testnet, mainnet) the edge serves HTTPS and its plain
port only redirects.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import edge
from edge import clusters, listeners
from edge.core import JWT_FILTER, SELF_CLUSTER

_ROOT = Path(__file__).resolve().parent.parent
# Read from the edge ConfigMap; the defaults are the base manifests' Service names and ports
# (each service's edge lane, services.common.lane).
_DEFAULT_UPSTREAMS = "identity=identity:50061,wallet=wallet:50062,licensing=licensing:50053"
# The streams the edge sends, which a lane does not serve, go to gRPC ports: reflection and health
# to identity's, the partner access log to licensing's (edge.STREAMED_DOMAINS).
_DEFAULT_STREAM_UPSTREAMS = "identity=identity:50051,licensing=licensing:50053"
_LOOPBACK = "127.0.0.1"
# The ops listener's route to the admin interface on loopback.
_ADMIN_CLUSTER = "envoy_admin"


def parse_upstreams(text: str) -> dict[str, edge.Upstream]:
    """Parse `name=host:port,...` into upstreams.

    Args:
        text: Comma-separated `domain=host:port` pairs, e.g. `identity=identity:50051`.

    Returns:
        The upstreams by domain.

    Raises:
        ValueError: On an entry without `=` or a port.
    """
    upstreams: dict[str, edge.Upstream] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, sep, address = entry.partition("=")
        host, colon, port = address.rpartition(":")
        if not sep or not colon or not port.isdigit():
            raise ValueError(f"bad upstream {entry!r}; want name=host:port")
        upstreams[name] = edge.Upstream(name=name, host=host, port=int(port))
    return upstreams


def parse_stream_upstreams(text: str) -> dict[str, edge.Upstream]:
    """Parse `domain=host:port,...` into stream upstreams, each its own cluster (`<domain>_grpc`)."""
    return {
        domain: edge.Upstream(name=f"{domain}_grpc", host=u.host, port=u.port)
        for domain, u in parse_upstreams(text).items()
    }


def render(
    descriptor: Path,
    upstreams: Mapping[str, edge.Upstream],
    *,
    port: int = 8080,
    admin_port: int = 9901,
    ops_port: int = 9902,
    issuer: str = "gx-identity",
    audience: str = "gx-api",
    max_request_bytes: int = 64 * 1024,
    xff_trusted_hops: int = 0,
    address_limits: Mapping[str, int] | None = None,
    tls: edge.EdgeTls | None = None,
    stream_upstreams: Mapping[str, edge.Upstream] | None = None,
) -> dict[str, Any]:
    """Build the edge's Envoy bootstrap for a Kubernetes pod.

    Args:
        descriptor: The descriptor set of the image's protos.
        upstreams: The gRPC Services to route to, by domain.
        port: The REST/gRPC listener port (all interfaces).
        admin_port: The admin interface port (loopback only).
        ops_port: The port exposing `/ready` and `/stats/prometheus` for probes and scraping.
        issuer: Expected `iss` of user tokens.
        audience: Expected `aud` of user tokens.
        max_request_bytes: Largest accepted REST request body.
        xff_trusted_hops: Trusted L7 proxies in front of the edge (0 when the load balancer is
            L4 with `externalTrafficPolicy: Local`, which keeps the client's address). Identity's
            `GX_IDENTITY__TRUSTED_HOPS` must be this + 1.
        address_limits: Requests per minute per client address on register, login, refresh
            and partner apply (`edge.ADDRESS_LIMITED_METHODS`; per edge pod, so N
            replicas allow N times as many); None: `GX_EDGE_ADDRESS_LIMITS` or the defaults.
        tls: Serve HTTPS on `tls.https_port` (HSTS, modern ciphers) and only redirect on
            `port`; None keeps plain HTTP (the devnet, which has no public address).
        stream_upstreams: By domain, the gRPC Service taking the edge's streams when `upstreams`
            names the domain's lane (`parse_stream_upstreams`); None: none, streams follow `upstreams`.

    Returns:
        The configuration as a JSON-serialisable dict.
    """
    settings = edge.EdgeSettings(
        host="0.0.0.0",
        port=port,
        admin_port=admin_port,
        descriptor=descriptor,
        upstreams=upstreams,
        jwt_issuer=issuer,
        jwt_audience=audience,
        jwks_upstream="identity" if "identity" in upstreams else None,
        max_request_bytes=max_request_bytes,
        xff_num_trusted_hops=xff_trusted_hops,
        address_limits=dict(address_limits) if address_limits is not None else edge.address_limits_from_env(),
        stream_upstreams=dict(stream_upstreams or {}),
    )
    config = edge.build_config(settings, edge.read_services(descriptor))
    edge.add_openapi_routes(config)  # GET /openapi.json and /docs, inline (edge/openapi.py)
    config["admin"] = {"address": {"socket_address": {"address": _LOOPBACK, "port_value": admin_port}}}
    static = config["static_resources"]
    by_dns = {u.name for u in (*upstreams.values(), *(stream_upstreams or {}).values())}
    for cluster in static["clusters"]:
        if cluster["name"] in by_dns:
            clusters.resolve_by_dns(cluster)  # headless Services: every ready pod
        elif cluster["name"] == SELF_CLUSTER:
            cluster.update(clusters.static_cluster(SELF_CLUSTER, _LOOPBACK, port))
    for http_filter in listeners.edge_manager(config)["http_filters"]:
        if http_filter["name"] == JWT_FILTER:
            provider = next(iter(http_filter["typed_config"]["providers"].values()))
            provider["remote_jwks"]["http_uri"]["uri"] = f"http://{_LOOPBACK}:{port}/.well-known/jwks.json"
    if tls is not None:
        edge.add_tls(config, tls)
    static["clusters"].append(clusters.static_cluster(_ADMIN_CLUSTER, _LOOPBACK, admin_port))
    static["listeners"].append(listeners.ops_listener(ops_port, _ADMIN_CLUSTER))
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Write the edge configuration; settings come from flags or the edge ConfigMap's env."""
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON config")
    parser.add_argument(
        "--descriptor",
        type=Path,
        default=Path(env.get("GX_EDGE_DESCRIPTOR", _ROOT / "build" / "gx.binpb")),
        help="descriptor set; compiled from protos/ when the file does not exist",
    )
    parser.add_argument("--upstreams", default=env.get("GX_EDGE_UPSTREAMS", _DEFAULT_UPSTREAMS))
    parser.add_argument(
        "--stream-upstreams",
        default=env.get("GX_EDGE_STREAM_UPSTREAMS", _DEFAULT_STREAM_UPSTREAMS),
        help="domain=host:port of the gRPC ports taking the edge's streams when --upstreams names lanes",
    )
    parser.add_argument("--port", type=int, default=int(env.get("GX_EDGE_PORT", "8080")))
    parser.add_argument("--admin-port", type=int, default=int(env.get("GX_EDGE_ADMIN_PORT", "9901")))
    parser.add_argument("--ops-port", type=int, default=int(env.get("GX_EDGE_OPS_PORT", "9902")))
    parser.add_argument("--issuer", default=env.get("GX_AUTH__ISSUER", "gx-identity"))
    parser.add_argument("--audience", default=env.get("GX_AUTH__AUDIENCE", "gx-api"))
    parser.add_argument(
        "--max-request-bytes", type=int, default=int(env.get("GX_EDGE_MAX_REQUEST_BYTES", str(64 * 1024)))
    )
    parser.add_argument(
        "--xff-trusted-hops",
        type=int,
        default=int(env.get("GX_EDGE_XFF_TRUSTED_HOPS", "0")),
        help="trusted L7 proxies in front of the edge (identity's GX_IDENTITY__TRUSTED_HOPS = this + 1)",
    )
    parser.add_argument(
        "--address-limits",
        default=env.get("GX_EDGE_ADDRESS_LIMITS", ""),
        help="per-address requests per minute on unauthenticated routes, e.g. register=60,login=120 (0 = off)",
    )
    # TLS is on when the overlay names a certificate (the edge-tls component, from a Secret).
    parser.add_argument("--tls-cert", type=Path, default=env.get("GX_EDGE_TLS_CERT") or None)
    parser.add_argument("--tls-key", type=Path, default=env.get("GX_EDGE_TLS_KEY") or None)
    parser.add_argument("--https-port", type=int, default=int(env.get("GX_EDGE_HTTPS_PORT", "8443")))
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("GX_EDGE_TLS_CERT and GX_EDGE_TLS_KEY go together")
    tls = (
        edge.EdgeTls(cert_chain=args.tls_cert, private_key=args.tls_key, https_port=args.https_port)
        if args.tls_cert is not None
        else None
    )
    descriptor = args.descriptor
    if not descriptor.exists():
        # An image built without `make descriptor`: compile next to the output instead.
        descriptor = edge.build_descriptor(_ROOT, Path(tempfile.mkdtemp(dir=args.out.parent)) / "gx.binpb")
    config = render(
        descriptor,
        parse_upstreams(args.upstreams),
        port=args.port,
        admin_port=args.admin_port,
        ops_port=args.ops_port,
        issuer=args.issuer,
        audience=args.audience,
        max_request_bytes=args.max_request_bytes,
        xff_trusted_hops=args.xff_trusted_hops,
        address_limits=edge.address_limits_from_env({"GX_EDGE_ADDRESS_LIMITS": args.address_limits}),
        tls=tls,
        stream_upstreams=parse_stream_upstreams(args.stream_upstreams),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(config, indent=1))
    print(f"edge config written to {args.out} (descriptor {descriptor})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
