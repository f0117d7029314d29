"""The built manifests of the base and every overlay: probes, limits, graceful shutdown, secrets, wiring."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.manifests.kustomize import MANIFESTS, OVERLAYS, TARGETS

Objects = dict[str, list[dict[str, Any]]]
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}


def _of_kind(docs: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in kinds]


def _pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for obj in _of_kind(docs, "Deployment", "Job", "StatefulSet", "DaemonSet"):
        yield obj, obj["spec"]["template"]["spec"]
    for obj in _of_kind(docs, "CronJob"):
        yield obj, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def _config_maps(docs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """ConfigMap data by rendered name (kustomize appends a content hash to generated ones)."""
    return {d["metadata"]["name"]: d.get("data", {}) for d in _of_kind(docs, "ConfigMap")}


def _config_map(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    """The data of the generated ConfigMap `name`, whatever hash suffix it got."""
    (data,) = [v for k, v in _config_maps(docs).items() if re.fullmatch(rf"{name}(-[a-z0-9]{{10}})?", k)]
    return data


def _env(container: dict[str, Any], docs: list[dict[str, Any]]) -> dict[str, str]:
    """The literal environment a container sees: its ConfigMaps, then its own values."""
    maps = _config_maps(docs)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
    return env


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_has_requests_and_limits(rendered: Objects, target: str) -> None:
    missing = [
        f"{obj['metadata']['name']}/{c['name']}: {kind}.{res}"
        for obj, spec in _pod_specs(rendered[target])
        for c in _containers(spec)
        for kind in ("requests", "limits")
        for res in ("cpu", "memory")
        if res not in c.get("resources", {}).get(kind, {})
    ]
    assert missing == []


@pytest.mark.parametrize("target", TARGETS)
def test_every_deployment_container_has_readiness_and_liveness_probes(rendered: Objects, target: str) -> None:
    missing = [
        f"{d['metadata']['name']}/{c['name']}: {probe}"
        for d in _of_kind(rendered[target], "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
        for probe in ("readinessProbe", "livenessProbe")
        if probe not in c
    ]
    assert missing == []


@pytest.mark.parametrize("target", TARGETS)
def test_grpc_servers_are_probed_over_grpc_health(rendered: Objects, target: str) -> None:
    # A process that serves gRPC reports readiness through grpc.health.v1 (fed by real
    # dependency checks), so Kubernetes asks exactly that.
    checked = 0
    for d in _of_kind(rendered[target], "Deployment"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            grpc_ports = [p["containerPort"] for p in c.get("ports", []) if p["name"] == "grpc"]
            if not grpc_ports:
                continue
            checked += 1
            name = f"{d['metadata']['name']}/{c['name']}"
            assert c["readinessProbe"].get("grpc", {}).get("port") == grpc_ports[0], name
            assert c["startupProbe"].get("grpc", {}).get("port") == grpc_ports[0], name
    assert checked >= 4  # identity, wallet, licensing, outbox


@pytest.mark.parametrize("target", TARGETS)
def test_termination_grace_outlasts_the_shutdown(rendered: Objects, target: str) -> None:
    short = []
    for obj in _of_kind(rendered[target], "Deployment"):
        spec = obj["spec"]["template"]["spec"]
        grace = spec.get("terminationGracePeriodSeconds")
        if grace is None:
            short.append(f"{obj['metadata']['name']}: no terminationGracePeriodSeconds")
            continue
        for c in spec["containers"]:
            pause = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            drain = float(_env(c, rendered[target]).get("GX_SHUTDOWN_GRACE_SECONDS", 0))
            # The kubelet's grace covers the preStop pause and the process's own drain.
            if pause + drain + 5 > grace:
                short.append(f"{obj['metadata']['name']}/{c['name']}: {pause}+{drain}+5 > {grace}")
    assert short == []


@pytest.mark.parametrize("target", TARGETS)
def test_credentials_come_only_from_secrets(rendered: Objects, target: str) -> None:
    docs = rendered[target]
    assert _of_kind(docs, "Secret") == []
    leaks = []
    for _, spec in _pod_specs(docs):
        for c in _containers(spec):
            for var in c.get("env", []):
                if var["name"] in ("GX_DATABASE__URL", "GX_REDIS__URL") and "secretKeyRef" not in var.get(
                    "valueFrom", {}
                ):
                    leaks.append(f"{c['name']}: {var['name']} not from a Secret")
    for name, data in _config_maps(docs).items():
        for key, value in data.items():
            if re.search(r"://[^/\s]*:[^/\s]*@", value) or "PRIVATE KEY" in value:
                leaks.append(f"ConfigMap {name}: {key} holds a credential")
    assert leaks == []


@pytest.mark.parametrize("target", TARGETS)
def test_every_referenced_secret_is_documented(rendered: Objects, target: str) -> None:
    # Operators create the Secrets by hand; each one the manifests need must be explained.
    readme = (MANIFESTS / "README.md").read_text()
    names: set[str] = set()
    for _, spec in _pod_specs(rendered[target]):
        for vol in spec.get("volumes", []):
            if "secret" in vol:
                names.add(vol["secret"]["secretName"])
        for c in _containers(spec):
            for var in c.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    names.add(ref["name"])
    assert names, "no Secret referenced at all"
    assert sorted(n for n in names if f"`{n}`" not in readme) == []


@pytest.mark.parametrize("target", TARGETS)
def test_referenced_config_maps_exist(rendered: Objects, target: str) -> None:
    maps = set(_config_maps(rendered[target]))
    missing = [
        source["configMapRef"]["name"]
        for _, spec in _pod_specs(rendered[target])
        for c in _containers(spec)
        for source in c.get("envFrom", [])
        if "configMapRef" in source and source["configMapRef"]["name"] not in maps
    ]
    assert missing == []


@pytest.mark.parametrize("target", TARGETS)
def test_every_service_selects_pods_with_its_ports(rendered: Objects, target: str) -> None:
    docs = rendered[target]
    problems = []
    for svc in _of_kind(docs, "Service"):
        selector = svc["spec"]["selector"]
        pods = [
            d["spec"]["template"] for d in _of_kind(docs, "Deployment")
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]  # fmt: skip
        if not pods:
            problems.append(f"Service {svc['metadata']['name']} selects no pods")
            continue
        names = {p["name"] for pod in pods for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        problems += [
            f"Service {svc['metadata']['name']}: no container port {port['targetPort']!r}"
            for port in svc["spec"]["ports"]
            if isinstance(port["targetPort"], str) and port["targetPort"] not in names
        ]
    assert problems == []


@pytest.mark.parametrize("target", TARGETS)
def test_the_edge_reaches_grpc_services_through_headless_services(rendered: Objects, target: str) -> None:
    docs = rendered[target]
    services = {s["metadata"]["name"]: s for s in _of_kind(docs, "Service")}
    edge = _config_map(docs, "gx-edge")["GX_EDGE_UPSTREAMS"]
    for entry in edge.split(","):
        domain, _, address = entry.partition("=")
        host, _, port = address.rpartition(":")
        assert host in services, f"edge upstream {domain} names no Service {host}"
        # Headless: DNS returns every pod, so Envoy balances requests, not connections.
        assert services[host]["spec"].get("clusterIP") == "None", host
        assert int(port) in {p["port"] for p in services[host]["spec"]["ports"]}, entry


def test_base_runs_one_projector(rendered: Objects) -> None:
    (projector,) = [
        d for d in _of_kind(rendered["base"], "Deployment") if d["metadata"]["name"] == "projector"
    ]
    assert projector["spec"]["replicas"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_puts_everything_in_its_namespace(rendered: Objects, overlay: str) -> None:
    docs = rendered[overlay]
    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] not in _CLUSTER_SCOPED}
    assert namespaces == {f"gx-{overlay}"}
    assert [d["metadata"]["name"] for d in _of_kind(docs, "Namespace")] == [f"gx-{overlay}"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_pins_an_image_tag(rendered: Objects, overlay: str) -> None:
    images = {c["image"] for _, spec in _pod_specs(rendered[overlay]) for c in _containers(spec)}
    assert all(":" in image and not image.endswith(":latest") for image in images), images


def _replicas(docs: list[dict[str, Any]]) -> dict[str, int]:
    return {d["metadata"]["name"]: d["spec"]["replicas"] for d in _of_kind(docs, "Deployment")}


def test_devnet_runs_one_of_everything_with_its_own_peer(rendered: Objects) -> None:
    replicas = _replicas(rendered["devnet"])
    assert set(replicas.values()) == {1}
    assert "fabric-peer" in replicas
    config = _config_map(rendered["devnet"], "gx-config")
    assert config["GX_FABRIC__ENDPOINT"] == "fabric-peer:7051"
    assert "GX_FABRIC__TLS_ROOT_CERT" not in config


def test_mainnet_is_replicated_with_a_standby_projector(rendered: Objects) -> None:
    replicas = _replicas(rendered["mainnet"])
    assert all(replicas[name] >= 3 for name in ("identity", "wallet", "licensing", "outbox", "edge")), (
        replicas
    )
    assert replicas["projector"] == 2
    assert len(_of_kind(rendered["mainnet"], "PodDisruptionBudget")) == 5


@pytest.mark.parametrize("overlay", ["testnet", "mainnet"])
def test_shared_networks_reach_fabric_over_tls(rendered: Objects, overlay: str) -> None:
    docs = rendered[overlay]
    config = _config_map(docs, "gx-config")
    assert config["GX_FABRIC__TLS_ROOT_CERT"] == "/var/run/gx/fabric-tls/ca.crt"
    assert config["GX_FABRIC__TLS_SERVER_NAME"] == config["GX_FABRIC__ENDPOINT"].rsplit(":", 1)[0]
    for name in ("outbox", "projector"):
        (dep,) = [d for d in _of_kind(docs, "Deployment") if d["metadata"]["name"] == name]
        spec = dep["spec"]["template"]["spec"]
        assert {
            "name": "fabric-tls",
            "secret": {"secretName": "gx-fabric-tls", "defaultMode": 0o400},
        } in spec["volumes"]
        mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        assert "/var/run/gx/fabric-tls" in mounts
    if overlay == "mainnet":
        assert config["GX_FABRIC__TLS_CLIENT_KEY"].startswith("/var/run/gx/fabric-tls/")
