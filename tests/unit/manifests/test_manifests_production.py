"""What each overlay deploys for production safety: edge TLS, ops off the public Service, the edge's
hardening, the settings each process needs, and backups."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from edge import descriptor as gx_descriptor
from edge.tls import HSTS
from manifests import edge_config
from tests.unit.manifests.kustomize import OVERLAYS, ROOT, TARGETS

Objects = dict[str, list[dict[str, Any]]]
_PUBLIC = ["testnet", "mainnet"]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def _config_map(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    (found,) = [
        d for d in docs if d["kind"] == "ConfigMap" and re.fullmatch(rf"{name}(-[a-z0-9]{{10}})?", d["metadata"]["name"])
    ]  # fmt: skip
    return dict(found.get("data", {}))


def _container(docs: list[dict[str, Any]], deployment: str, name: str | None = None) -> dict[str, Any]:
    spec = _one(docs, "Deployment", deployment)["spec"]["template"]["spec"]
    (found,) = [c for c in spec["containers"] if name is None or c["name"] == name][:1]
    return dict(found)


@pytest.fixture(scope="module")
def descriptor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The descriptor set the image carries."""
    return gx_descriptor.build(ROOT, tmp_path_factory.mktemp("prod") / "gx.binpb")


def _edge_config(
    docs: list[dict[str, Any]], descriptor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The Envoy config the edge's init container writes with this overlay's ConfigMaps."""
    for name in ("gx-config", "gx-edge"):
        for key, value in _config_map(docs, name).items():
            monkeypatch.setenv(key, value)
    out = tmp_path / "envoy.json"
    assert edge_config.main(["--out", str(out), "--descriptor", str(descriptor)]) == 0
    return dict(json.loads(out.read_text()))


def _listeners(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in config["static_resources"]["listeners"]}


@pytest.mark.parametrize("overlay", _PUBLIC)
def test_public_edges_serve_tls_from_the_mounted_secret(
    rendered: Objects, overlay: str, descriptor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered[overlay]
    config = _edge_config(docs, descriptor, tmp_path, monkeypatch)
    listeners = _listeners(config)
    edge = listeners["edge"]
    tls = edge["filter_chains"][0]["transport_socket"]["typed_config"]["common_tls_context"]
    assert tls["tls_params"]["tls_minimum_protocol_version"] == "TLSv1_2"
    assert all(
        s.startswith("ECDHE-") and ("GCM" in s or "CHACHA20" in s) for s in tls["tls_params"]["cipher_suites"]
    )
    (certificate,) = tls["tls_certificates"]
    manager = edge["filter_chains"][0]["filters"][0]["typed_config"]
    (host,) = manager["route_config"]["virtual_hosts"]
    assert {"key": "strict-transport-security", "value": HSTS} in [
        h["header"] for h in host["response_headers_to_add"]
    ]
    redirect = listeners["edge_redirect"]["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]
    assert redirect["virtual_hosts"][0]["routes"] == [
        {"match": {"prefix": "/"}, "redirect": {"https_redirect": True, "response_code": "MOVED_PERMANENTLY"}}
    ]
    # Both files come from the gx-edge-tls Secret mounted into the Envoy container, and the
    # ports Envoy listens on are the container's named ports the Service targets.
    envoy = _container(docs, "edge", "envoy")
    (mount,) = [m for m in envoy["volumeMounts"] if m["name"] == "edge-tls"]
    spec = _one(docs, "Deployment", "edge")["spec"]["template"]["spec"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == "edge-tls"]
    assert volume["secret"]["secretName"] == "gx-edge-tls"
    mounted = {str(PurePosixPath(mount["mountPath"]) / item["path"]) for item in volume["secret"]["items"]}
    assert {certificate["certificate_chain"]["filename"], certificate["private_key"]["filename"]} == mounted
    ports = {p["name"]: p["containerPort"] for p in envoy["ports"]}
    assert edge["address"]["socket_address"]["port_value"] == ports["https"]
    assert listeners["edge_redirect"]["address"]["socket_address"]["port_value"] == ports["http"]


def test_the_devnet_edge_stays_plain_http(
    rendered: Objects, descriptor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _edge_config(rendered["devnet"], descriptor, tmp_path, monkeypatch)
    assert "transport_socket" not in _listeners(config)["edge"]["filter_chains"][0]
    assert "edge_redirect" not in _listeners(config)
    assert _one(rendered["devnet"], "Service", "edge")["spec"].get("type", "ClusterIP") == "ClusterIP"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_edge_is_hardened(
    rendered: Objects, overlay: str, descriptor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _edge_config(rendered[overlay], descriptor, tmp_path, monkeypatch)
    edge = _listeners(config)["edge"]
    assert edge["per_connection_buffer_limit_bytes"] == 64 * 1024
    manager = edge["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["request_headers_timeout"] == "10s"
    assert manager["request_timeout"] == "60s"
    assert manager["stream_idle_timeout"] == "60s"
    assert manager["common_http_protocol_options"]["idle_timeout"] == "300s"
    assert manager["http2_protocol_options"]["max_concurrent_streams"] == 100
    assert manager["http2_protocol_options"]["initial_stream_window_size"] == 64 * 1024
    (monitor,) = config["overload_manager"]["resource_monitors"]
    assert monitor["typed_config"]["max_active_downstream_connections"] > 0
    assert _listeners(config)["ops"]["ignore_global_conn_limit"] is True
    upstreams = [
        c for c in config["static_resources"]["clusters"] if c["name"] in ("identity", "wallet", "licensing")
    ]
    assert upstreams and all(c["per_connection_buffer_limit_bytes"] == 64 * 1024 for c in upstreams)


@pytest.mark.parametrize("target", TARGETS)
def test_ops_ports_are_never_on_a_public_service(rendered: Objects, target: str) -> None:
    docs = rendered[target]
    internal = {"ops", "metrics", 9902, 9090, 9901}
    for svc in (d for d in docs if d["kind"] == "Service"):
        if svc["spec"].get("type", "ClusterIP") in ("LoadBalancer", "NodePort"):
            exposed = {p.get("targetPort") for p in svc["spec"]["ports"]} | {
                p["port"] for p in svc["spec"]["ports"]
            }
            assert not exposed & internal, svc["metadata"]["name"]
            assert svc["metadata"]["name"] == "edge"
    ops = _one(docs, "Service", "edge-ops")
    assert ops["spec"]["type"] == "ClusterIP"
    assert [p["targetPort"] for p in ops["spec"]["ports"]] == ["ops"]


@pytest.mark.parametrize("overlay", _PUBLIC)
def test_the_public_service_offers_https_and_the_redirect_only(rendered: Objects, overlay: str) -> None:
    spec = _one(rendered[overlay], "Service", "edge")["spec"]
    assert spec["type"] == "LoadBalancer"
    assert sorted((p["port"], p["targetPort"]) for p in spec["ports"]) == [(80, "http"), (443, "https")]


@pytest.mark.parametrize("target", TARGETS)
def test_every_token_checking_process_has_a_jwks_target(rendered: Objects, target: str) -> None:
    # The outbox's admin API refuses every caller without one (issue 10); wallet and licensing
    # verify user tokens the same way.
    docs = rendered[target]
    services = {s["metadata"]["name"]: s for s in docs if s["kind"] == "Service"}
    for name in ("outbox", "wallet", "licensing"):
        env = {v["name"]: v.get("value") for v in _container(docs, name).get("env", [])}
        host, _, port = env["GX_AUTH__JWKS_TARGET"].rpartition(":")
        assert host == "identity", name
        assert int(port) in {p["port"] for p in services[host]["spec"]["ports"]}


@pytest.mark.parametrize("target", TARGETS)
def test_identity_keys_are_a_read_only_mount_of_the_keys_dir(rendered: Objects, target: str) -> None:
    # KeyStore.open only reads a directory that has keys (no lock file inside the Secret).
    docs = rendered[target]
    identity = _container(docs, "identity")
    env = {v["name"]: v.get("value") for v in identity["env"]}
    (mount,) = [m for m in identity["volumeMounts"] if m["mountPath"] == env["GX_IDENTITY__KEYS_DIR"]]
    assert mount["readOnly"] is True
    assert identity["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("overlay", _PUBLIC)
def test_the_database_is_backed_up_nightly_with_retention(rendered: Objects, overlay: str) -> None:
    docs = rendered[overlay]
    cron = _one(docs, "CronJob", "gx-db-backup")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    minute, hour, *rest = cron["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "manifests.backup"]
    env = {v["name"]: v for v in container["env"]}
    assert int(env["GX_BACKUP_KEEP"]["value"]) >= 7
    assert env["GX_DATABASE__URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "gx-database-migrate",
        "key": "url",
    }
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == env["GX_BACKUP_DIR"]["value"]]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    claim = _one(docs, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["resources"]["requests"]["storage"]
