"""The generated Envoy configuration: Envoy accepts it, and the token rules follow the contract's access rules."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

import edge
from devstack.config import REPO_ROOT
from devstack.envoy import binary
from edge import descriptor
from edge.filters.jwt import jwt_filter


def _settings(desc: Path, **changes: object) -> edge.EdgeSettings:
    settings = edge.EdgeSettings(
        host="127.0.0.1",
        port=18080,
        admin_port=19901,
        descriptor=desc,
        upstreams={"identity": edge.Upstream("identity", "127.0.0.1", 15051)},
    )
    return dataclasses.replace(settings, **changes)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("envoy")
    desc = descriptor.build(REPO_ROOT, root / "gx.binpb")
    cfg = edge.build_config(_settings(desc), descriptor.read_services(desc))
    path = root / "envoy.json"
    path.write_text(json.dumps(cfg))
    return cfg, path


def _filters(cfg: dict) -> list[dict]:
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    return hcm["http_filters"]


def test_envoy_validates_the_generated_config(config: tuple[dict, Path]) -> None:
    result = subprocess.run(
        [binary(), "--mode", "validate", "-c", str(config[1])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_filter_order_shapes_responses_first_and_routes_last(config: tuple[dict, Path]) -> None:
    names = [f["name"] for f in _filters(config[0])]
    assert names == [
        "envoy.filters.http.lua",
        "envoy.filters.http.jwt_authn",
        "envoy.filters.http.lua",
        "envoy.filters.http.grpc_json_transcoder",
        # Per-address limits on the unauthenticated routes (issue 8), after the transcoder.
        "gx.address_limit",
        "envoy.filters.http.router",
    ]


def test_public_methods_allow_a_missing_token_and_everything_else_requires_one(
    config: tuple[dict, Path],
) -> None:
    jwt = _filters(config[0])[1]["typed_config"]
    rules = jwt["rules"]
    by_path = {r["match"].get("path"): r for r in rules if "path" in r["match"]}
    login = by_path["/gx.identity.v1.IdentityService/Login"]["requires"]["requires_any"]["requirements"]
    assert {"allow_missing": {}} in login
    assert "/gx.identity.v1.IdentityService/GetUser" not in by_path
    assert rules[-1] == {"match": {"prefix": "/"}, "requires": {"provider_name": "gx_user"}}
    provider = jwt["providers"]["gx_user"]
    assert provider["forward"] is True
    assert provider["remote_jwks"]["http_uri"]["uri"] == "http://127.0.0.1:18080/.well-known/jwks.json"
    # Verified tokens are remembered per worker (the ES256 check is a quarter of Envoy's CPU per call).
    assert provider["jwt_cache_config"] == {"jwt_cache_size": 4096}


def test_the_token_cache_can_be_turned_off(config: tuple[dict, Path]) -> None:
    off = jwt_filter(_settings(config[1].parent / "gx.binpb", jwt_cache_size=0), [])
    assert "jwt_cache_config" not in off["typed_config"]["providers"]["gx_user"]


def test_transcoder_covers_routed_services_only_with_strict_options(config: tuple[dict, Path]) -> None:
    transcoder = _filters(config[0])[3]["typed_config"]
    assert transcoder["services"] == ["gx.identity.v1.IdentityService"]
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["request_validation_options"] == {
        "reject_unknown_method": True,
        "reject_unknown_query_parameters": True,
    }
    clusters = {c["name"]: c for c in config[0]["static_resources"]["clusters"]}
    assert set(clusters) == {"identity", "edge_self"}
    assert clusters["identity"]["health_checks"][0]["no_traffic_interval"] == "2s"


def test_reflection_and_health_go_to_the_stream_upstream_when_identity_is_on_its_lane(
    config: tuple[dict, Path],
) -> None:
    desc = config[1].parent / "gx.binpb"
    settings = _settings(
        desc,
        upstreams={"identity": edge.Upstream("identity", "127.0.0.1", 15061)},
        stream_upstreams={"identity": edge.Upstream("identity_grpc", "127.0.0.1", 15051)},
    )
    cfg = edge.build_config(settings, descriptor.read_services(desc))
    routes = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
        "route_config"
    ]["virtual_hosts"][0]["routes"]
    by_prefix = {r["match"].get("prefix"): r.get("route", {}).get("cluster") for r in routes}
    assert by_prefix["/gx.identity.v1.IdentityService/"] == "identity"
    for infra in ("/grpc.reflection.v1.ServerReflection/", "/grpc.health.v1.Health/"):
        assert by_prefix[infra] == "identity_grpc"
    ports = {
        c["name"]: c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
            "socket_address"
        ]["port_value"]
        for c in cfg["static_resources"]["clusters"]
    }
    assert ports["identity"] == 15061 and ports["identity_grpc"] == 15051
