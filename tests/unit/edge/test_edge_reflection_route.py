"""Server reflection through the edge goes to identity, the process that reflects the whole mesh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import edge
from devstack.config import REPO_ROOT
from edge import descriptor
from manifests.edge_config import render as render_k8s_edge

_REFLECTION = ("grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection")


@pytest.fixture(scope="module")
def desc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return descriptor.build(REPO_ROOT, tmp_path_factory.mktemp("refl") / "gx.binpb")


def _upstreams() -> dict[str, edge.Upstream]:
    # Wallet listed first on purpose: the choice must not follow the order of the upstreams.
    return {
        "wallet": edge.Upstream("wallet", "127.0.0.1", 15052),
        "licensing": edge.Upstream("licensing", "127.0.0.1", 15053),
        "ops": edge.Upstream("outbox", "127.0.0.1", 15054),
        "identity": edge.Upstream("identity", "127.0.0.1", 15051),
    }


def _routes(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    return list(hcm["route_config"]["virtual_hosts"][0]["routes"])


def _cluster_for(routes: list[dict[str, Any]], prefix: str) -> str:
    matching = [r for r in routes if r["match"].get("prefix") == prefix]
    assert len(matching) == 1, prefix
    return str(matching[0]["route"]["cluster"])


def test_the_dev_edge_sends_reflection_to_identity_and_each_service_to_its_process(desc: Path) -> None:
    settings = edge.EdgeSettings(
        host="127.0.0.1", port=18080, admin_port=19901, descriptor=desc, upstreams=_upstreams()
    )
    routes = _routes(edge.build_config(settings, descriptor.read_services(desc)))
    for name in _REFLECTION:
        assert _cluster_for(routes, f"/{name}/") == "identity"
    assert _cluster_for(routes, "/gx.wallet.v1.TaxService/") == "wallet"
    assert _cluster_for(routes, "/gx.ops.v1.OutboxAdminService/") == "outbox"


def test_the_kubernetes_edge_does_too(desc: Path) -> None:
    routes = _routes(render_k8s_edge(desc, _upstreams()))
    for name in _REFLECTION:
        assert _cluster_for(routes, f"/{name}/") == "identity"
