"""Every overlay denies by default and allows exactly the mesh's real arrows (NetworkPolicy walk)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.manifests.kustomize import OVERLAYS
from tests.unit.manifests.netpol import Endpoint, connects

Objects = dict[str, list[dict[str, Any]]]


class _Mesh:
    """The pods of one rendered overlay, by name, with its policies."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        (namespace,) = [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"]
        self.namespace = {"kubernetes.io/metadata.name": namespace}
        self.policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
        self.pods: dict[str, Endpoint] = {}
        for obj in docs:
            if obj["kind"] in ("Deployment", "Job"):
                labels = obj["spec"]["template"]["metadata"]["labels"]
            elif obj["kind"] == "CronJob":
                labels = obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
            else:
                continue
            self.pods[obj["metadata"]["name"]] = Endpoint(labels=labels, namespace=self.namespace)
        self.internet = Endpoint(external=True)
        self.prometheus = Endpoint(
            labels={"app.kubernetes.io/name": "prometheus"},
            namespace={"kubernetes.io/metadata.name": "monitoring"},
        )
        self.operator = Endpoint(
            labels={"gx-mesh.io/operator": "true", "run": "grpcurl"}, namespace=self.namespace
        )
        self.stranger = Endpoint(labels={"run": "debug"}, namespace=self.namespace)
        self.other_namespace = Endpoint(
            labels={"app": "x"}, namespace={"kubernetes.io/metadata.name": "shop"}
        )

    def endpoint(self, name: str) -> Endpoint:
        return self.pods[name] if name in self.pods else getattr(self, name)

    def connects(self, source: str, target: str, port: int) -> bool:
        return connects(self.policies, self.namespace, self.endpoint(source), self.endpoint(target), port)


def _mesh(rendered: Objects, overlay: str) -> _Mesh:
    return _Mesh(rendered[overlay])


_DB_CLIENTS = ["identity", "wallet", "licensing", "outbox", "projector", "gx-db-migrate"]
_ALLOWED = [
    ("internet", "edge", 8080),
    ("internet", "edge", 8443),
    ("edge", "identity", 50061),  # identity's edge lane (its routes)
    ("edge", "identity", 50051),  # reflection and health, which stream
    ("edge", "wallet", 50062),  # the wallet's edge lane
    ("edge", "licensing", 50063),  # routes and ext_authz on licensing's edge lane
    ("edge", "licensing", 50053),  # the access-log stream
    ("licensing", "identity", 50051),
    ("wallet", "identity", 50051),
    ("outbox", "identity", 50051),  # the admin API's JWKS
    ("operator", "outbox", 50054),
    ("prometheus", "edge", 9902),
    *[(name, "internet", 5432) for name in _DB_CLIENTS],
    *[(name, "internet", 6379) for name in ("identity", "wallet", "licensing", "outbox")],
    *[(name, "internet", 7051) for name in ("outbox", "projector")],
    *[("prometheus", name, 9090) for name in ("identity", "wallet", "licensing", "outbox", "projector")],
]
_DENIED = [
    ("internet", "edge", 9902),  # ops never public
    ("internet", "identity", 50051),
    ("internet", "outbox", 50054),
    ("stranger", "outbox", 50054),  # the admin API only for labelled operators
    ("edge", "outbox", 50054),
    ("edge", "internet", 5432),
    ("edge", "internet", 443),
    ("wallet", "licensing", 50053),
    ("projector", "identity", 50051),
    ("identity", "internet", 7051),
    ("wallet", "internet", 7051),
    ("gx-db-migrate", "internet", 6379),
    ("other_namespace", "identity", 50051),
    ("other_namespace", "wallet", 9090),
    ("stranger", "wallet", 50052),
    ("stranger", "wallet", 50062),
    ("stranger", "identity", 50061),
    ("stranger", "licensing", 50063),
    ("wallet", "licensing", 50063),
    ("wallet", "identity", 50061),  # the mesh calls identity on gRPC; only the edge uses the lane
    ("edge", "wallet", 50052),  # the edge calls the wallet on its lane only
    ("wallet", "wallet", 50052),
    ("identity", "internet", 80),
    ("operator", "identity", 50051),
    ("operator", "internet", 5432),
]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_under_a_default_deny(rendered: Objects, overlay: str) -> None:
    mesh = _mesh(rendered, overlay)
    (deny,) = [p for p in mesh.policies if p["metadata"]["name"] == "default-deny"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize(("source", "target", "port"), _ALLOWED)
def test_the_real_arrows_are_allowed(
    rendered: Objects, overlay: str, source: str, target: str, port: int
) -> None:
    assert _mesh(rendered, overlay).connects(source, target, port)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize(("source", "target", "port"), _DENIED)
def test_other_arrows_are_denied(
    rendered: Objects, overlay: str, source: str, target: str, port: int
) -> None:
    assert not _mesh(rendered, overlay).connects(source, target, port)


@pytest.mark.parametrize("overlay", ["testnet", "mainnet"])
def test_the_backup_job_reaches_only_postgres(rendered: Objects, overlay: str) -> None:
    mesh = _mesh(rendered, overlay)
    assert mesh.connects("gx-db-backup", "internet", 5432)
    assert not mesh.connects("gx-db-backup", "internet", 6379)
    assert not mesh.connects("gx-db-backup", "identity", 50051)


def test_the_devnet_peer_is_reached_only_by_outbox_and_projector(rendered: Objects) -> None:
    mesh = _mesh(rendered, "devnet")
    assert mesh.connects("outbox", "fabric-peer", 7051)
    assert mesh.connects("projector", "fabric-peer", 7051)
    assert mesh.connects("prometheus", "fabric-peer", 9090)
    for source in ("edge", "wallet", "identity", "stranger"):
        assert not mesh.connects(source, "fabric-peer", 7051), source
    assert not mesh.connects("fabric-peer", "internet", 443)


def test_the_evaluator_is_open_without_policies() -> None:
    # Sanity of the walk itself: no policy, everything connects; a lone deny closes everything.
    ns = {"kubernetes.io/metadata.name": "x"}
    a, b = Endpoint({"app": "a"}, ns), Endpoint({"app": "b"}, ns)
    assert connects([], ns, a, b, 80)
    deny = {"kind": "NetworkPolicy", "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    assert not connects([deny], ns, a, b, 80)
    assert connects([deny], ns, b, Endpoint(external=True), 80)
