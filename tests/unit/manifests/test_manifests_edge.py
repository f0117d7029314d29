"""The Kubernetes edge configuration: rendered from the protos, accepted by the real Envoy, locked down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge import descriptor as gx_descriptor
from manifests import edge_config
from tests.unit.manifests.kustomize import ROOT


@pytest.fixture(scope="module")
def descriptor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A descriptor set of the current protos, as the image build makes it."""
    return gx_descriptor.build(ROOT, tmp_path_factory.mktemp("edge") / "gx.binpb")


@pytest.fixture(scope="module")
def config_path(descriptor: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The edge config written by the init container's command, with the base ConfigMap's values."""
    out = tmp_path_factory.mktemp("edge-out") / "envoy.json"
    env = dict(
        line.split("=", 1)
        for line in (ROOT / "manifests" / "base" / "config" / "edge.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    argv = ["--out", str(out), "--descriptor", str(descriptor), "--upstreams", env["GX_EDGE_UPSTREAMS"]]
    assert edge_config.main([*argv, "--stream-upstreams", env["GX_EDGE_STREAM_UPSTREAMS"]]) == 0
    return out


@pytest.fixture(scope="module")
def config(config_path: Path) -> dict[str, Any]:
    """The rendered config."""
    return json.loads(config_path.read_text())


def test_envoy_accepts_the_edge_config(config_path: Path) -> None:
    envoy = Path(sys.executable).parent / "envoy"
    result = subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(config_path), "--disable-hot-restart", "--log-level", "error"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def _edge_filters(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (edge,) = [listener for listener in config["static_resources"]["listeners"] if listener["name"] == "edge"]
    filters = edge["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    return {f["name"]: f["typed_config"] for f in filters}


def test_every_public_service_is_transcoded_and_routed(config: dict[str, Any]) -> None:
    transcoder = _edge_filters(config)["envoy.filters.http.grpc_json_transcoder"]
    assert {
        "gx.identity.v1.IdentityService",
        "gx.wallet.v1.WalletService",
        "gx.wallet.v1.AdminService",
        "gx.licensing.v1.LicensingService",
    } <= set(transcoder["services"])
    # The operators' outbox API is not published at the edge.
    assert not any(s.startswith("gx.ops.") for s in transcoder["services"])
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    # Every service on its edge lane; the streams the edge sends on gRPC ports: reflection and
    # health on identity's, the partner access log on licensing's.
    for name, host, port in (
        ("identity", "identity", 50061),
        ("identity_grpc", "identity", 50051),
        ("wallet", "wallet", 50062),
        ("licensing", "licensing", 50063),
        ("licensing_grpc", "licensing", 50053),
    ):
        assert clusters[name]["type"] == "STRICT_DNS"
        address = clusters[name]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        assert address["socket_address"] == {"address": host, "port_value": port}
    routes = {
        r["match"].get("prefix"): r.get("route", {}).get("cluster")
        for listener in config["static_resources"]["listeners"]
        if listener["name"] == "edge"
        for r in listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][
            0
        ]["routes"]
    }
    assert routes["/grpc.reflection.v1.ServerReflection/"] == "identity_grpc"
    assert routes["/gx.identity.v1.IdentityService/"] == "identity"
    (edge_listener,) = [x for x in config["static_resources"]["listeners"] if x["name"] == "edge"]
    logs = edge_listener["filter_chains"][0]["filters"][0]["typed_config"]["access_log"]
    grpc_logs = [x for x in logs if x["name"] == "envoy.access_loggers.http_grpc"]
    assert [
        x["typed_config"]["common_config"]["grpc_service"]["envoy_grpc"]["cluster_name"] for x in grpc_logs
    ] == ["licensing_grpc"]
    assert _edge_filters(config)["envoy.filters.http.ext_authz"]["grpc_service"]["envoy_grpc"][
        "cluster_name"
    ] == ("licensing")


def test_public_rpcs_need_no_token_and_the_rest_do(config: dict[str, Any]) -> None:
    rules = _edge_filters(config)["envoy.filters.http.jwt_authn"]["rules"]
    optional = [r for r in rules if "allow_missing" in json.dumps(r.get("requires", {}))]
    paths = {r["match"].get("path") for r in optional}
    assert "/gx.licensing.v1.LicensingService/CreatePartner" in paths
    assert "/gx.identity.v1.IdentityService/Login" in paths
    assert "/gx.wallet.v1.WalletService/Transfer" not in paths
    assert rules[-1] == {"match": {"prefix": "/"}, "requires": {"provider_name": "gx_user"}}


def test_admin_stays_on_loopback_and_ops_exposes_only_probes_and_metrics(config: dict[str, Any]) -> None:
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    (ops,) = [listener for listener in config["static_resources"]["listeners"] if listener["name"] == "ops"]
    routes = ops["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0][
        "routes"
    ]
    exposed = {r["match"].get("path") for r in routes if "route" in r}
    assert exposed == {"/ready", "/stats/prometheus"}
    assert routes[-1] == {"match": {"prefix": "/"}, "direct_response": {"status": 404}}


def test_bad_upstream_lists_are_refused() -> None:
    assert edge_config.parse_upstreams("a=h:1, b=h2:2")["b"].port == 2
    for bad in ("identity", "identity=host", "identity=host:port"):
        with pytest.raises(ValueError, match="bad upstream"):
            edge_config.parse_upstreams(bad)
