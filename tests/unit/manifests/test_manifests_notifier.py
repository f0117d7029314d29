"""The notifier in every overlay: its process, its own database user, its relay settings, and its network arrows."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.settings import NotifierSettings
from services.common.settings import MissingSettingError
from tests.unit.manifests.kustomize import OVERLAYS
from tests.unit.manifests.test_manifests_policies import _mesh

Objects = dict[str, list[dict[str, Any]]]


def _deployment(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name]
    return found


def _env(objects: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """The literal environment a container gets from its ConfigMaps and `value` entries."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        (config,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name]
        env.update(config.get("data", {}))
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_notifier_runs_with_its_own_database_user_and_a_named_relay(
    rendered: Objects, overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = rendered[overlay]
    (container,) = _deployment(objects, "notifier")["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "notifier"]
    secrets = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e
    }
    assert secrets["GX_DATABASE__URL"] == "gx-database-notifier"
    assert secrets["GX_NOTIFIER__SMTP__PASSWORD"] == "gx-smtp"
    env = _env(objects, container)
    for name, value in {**env, "GX_DATABASE__URL": "postgresql+psycopg://u@db/gx"}.items():
        monkeypatch.setenv(name, value)
    settings = NotifierSettings()  # outside dev this raises if the relay were not named
    assert settings.notifier.smtp.host == (
        "smtp-relay" if overlay == "devnet" else env["GX_NOTIFIER__SMTP__HOST"]
    )
    assert settings.notifier.smtp.starttls is (overlay != "devnet")


def test_outside_dev_a_notifier_without_a_relay_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GX_ENVIRONMENT", "testnet")
    monkeypatch.setenv("GX_DATABASE__URL", "postgresql+psycopg://u@db/gx")
    with pytest.raises(MissingSettingError, match="GX_NOTIFIER__SMTP__HOST"):
        NotifierSettings()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_notifier_reaches_postgres_and_the_relay_and_nothing_reaches_it(
    rendered: Objects, overlay: str
) -> None:
    mesh = _mesh(rendered, overlay)
    for port in (5432, 587, 465, 443):
        assert mesh.connects("notifier", "internet", port), port
    assert mesh.connects("prometheus", "notifier", 9090)
    for source, target, port in (
        ("notifier", "internet", 6379),
        ("notifier", "identity", 50051),
        ("internet", "notifier", 9090),
        ("edge", "notifier", 9090),
    ):
        assert not mesh.connects(source, target, port), (source, target, port)


def test_on_devnet_only_the_notifier_reaches_the_smtp_sink(rendered: Objects) -> None:
    mesh = _mesh(rendered, "devnet")
    assert mesh.connects("notifier", "smtp-relay", 1025)
    for source in ("edge", "wallet", "identity", "stranger", "internet"):
        assert not mesh.connects(source, "smtp-relay", 1025), source
    assert not mesh.connects("smtp-relay", "internet", 25)
