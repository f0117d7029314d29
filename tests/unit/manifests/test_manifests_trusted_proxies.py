"""The client address identity throttles on comes only through the trusted edge, in every overlay."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from edge import descriptor as gx_descriptor
from manifests import edge_config
from services.identity.settings import IdentityOptions
from tests.unit.manifests.kustomize import ROOT, TARGETS


def _config_map(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    (found,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(name)]
    return dict(found.get("data", {}))


def _identity_env(docs: list[dict[str, Any]]) -> dict[str, str]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "identity"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {v["name"]: v["value"] for v in container.get("env", []) if "value" in v}


@pytest.mark.parametrize("target", TARGETS)
def test_identity_trusts_exactly_the_hops_the_edge_adds(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    docs = rendered[target]
    edge_hops = int(_config_map(docs, "gx-edge")["GX_EDGE_XFF_TRUSTED_HOPS"])
    env = _identity_env(docs)
    options = IdentityOptions(
        trusted_proxies=json.loads(env["GX_IDENTITY__TRUSTED_PROXIES"]),
        trusted_hops=int(env["GX_IDENTITY__TRUSTED_HOPS"]),
    )
    # The client is the entry the edge appended: one more than the proxies the edge trusts.
    assert options.trusted_hops == edge_hops + 1
    networks = [ipaddress.ip_network(n) for n in options.trusted_proxies]
    # Pod addresses only: a public address never gets to name the client.
    assert networks and not any(n.is_global for n in networks)


def test_the_rendered_edge_appends_the_real_peer_and_trusts_the_configured_hops(tmp_path: Path) -> None:
    descriptor = gx_descriptor.build(ROOT, tmp_path / "gx.binpb")
    config = edge_config.render(
        descriptor, edge_config.parse_upstreams("identity=identity:50051"), xff_trusted_hops=1
    )
    (edge,) = [listener for listener in config["static_resources"]["listeners"] if listener["name"] == "edge"]
    manager = edge["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["use_remote_address"] is True
    assert manager["xff_num_trusted_hops"] == 1
