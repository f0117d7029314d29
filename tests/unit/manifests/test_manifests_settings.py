"""The environment the manifests give each process is what that process's settings class reads."""

from __future__ import annotations

import importlib
import inspect
import os
import re
from typing import Any

import pytest
from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo

from services.common.settings import ServiceSettings
from tests.unit.manifests.kustomize import TARGETS


def _settings_class(module: str) -> type[ServiceSettings]:
    """The ServiceSettings subclass of `python -m <module>` (its `<module>.settings`).

    A process whose package does not exist yet (wallet and licensing are later issues) falls
    back to the shared ServiceSettings, which is what it will subclass.
    """
    try:
        settings_module = importlib.import_module(f"{module}.settings")
    except ModuleNotFoundError:
        return ServiceSettings
    found = [
        obj for _, obj in inspect.getmembers(settings_module, inspect.isclass)
        if issubclass(obj, ServiceSettings) and obj is not ServiceSettings and obj.__module__ == settings_module.__name__
    ]  # fmt: skip
    assert len(found) == 1, f"{module}.settings: expected one ServiceSettings subclass, found {found}"
    return found[0]


def _names(name: str, field: FieldInfo) -> set[str]:
    """A field's name and the aliases it is read by (fabric_client's `peer_endpoint` is `endpoint` too)."""
    alias = field.validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if alias else []
    return {name, *(choice for choice in choices if isinstance(choice, str))}


def _has_path(model: type[BaseModel], key: str) -> bool:
    """Tell whether `GX_A__B` names field a.b of `model` (case-insensitive, like pydantic-settings)."""
    parts = key.removeprefix("GX_").lower().split("__")
    current: Any = model
    for part in parts:
        fields = getattr(current, "model_fields", None) or {}
        found = [field for name, field in fields.items() if part in _names(name, field)]
        if not found:
            return False
        current = found[0].annotation
    return True


def _python_processes(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(module, container, literal env) of every container running `python -m <module>`."""
    maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    found = []
    for obj in docs:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        for c in obj["spec"]["template"]["spec"]["containers"]:
            command = c.get("command", [])
            if command[:2] != ["python", "-m"]:
                continue
            env: dict[str, str] = {}
            for source in c.get("envFrom", []):
                env.update(maps[source["configMapRef"]["name"]])
            env.update({v["name"]: v["value"] for v in c.get("env", []) if "value" in v})
            found.append((command[2], c, env))
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_every_gx_variable_names_a_real_setting(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    # Settings ignore unknown variables, so a misspelt GX_ name would be silently dropped.
    unknown = []
    for module, container, env in _python_processes(rendered[target]):
        if module in ("devnet", "chaincode"):
            continue  # configured by flags and CCaaS variables, not GX_ settings
        cls = _settings_class(module)
        own = {v["name"] for v in container.get("env", [])}
        for key in env:
            if not key.startswith("GX_") or key.startswith("GX_EDGE_"):
                continue
            # Shared ConfigMap keys need only mean something to some process; a container's
            # own variables must mean something to it.
            if key in own and not _has_path(cls, key):
                unknown.append(f"{module}: {key}")
    shared = {
        k for _, _, env in _python_processes(rendered[target]) for k in env if k.startswith("GX_FABRIC__")
    }
    from outbox.settings import OutboxSettings

    unknown += [f"gx-config: {k}" for k in sorted(shared) if not _has_path(OutboxSettings, k)]
    assert unknown == []


@pytest.mark.parametrize("target", TARGETS)
def test_each_process_loads_its_settings_from_the_manifest_env(
    rendered: dict[str, list[dict[str, Any]]], target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    for module, container, env in _python_processes(rendered[target]):
        if module in ("devnet", "chaincode"):
            continue
        cls = _settings_class(module)
        with monkeypatch.context() as patch:
            for key in [k for k in os.environ if k.startswith("GX_")]:
                patch.delenv(key)
            for key, value in env.items():
                patch.setenv(key, value)
            # Only the literal values load here: Secret-backed variables and mounted directories do
            # not exist on this machine, so the outside-dev required-settings check (its own test:
            # test_manifests_required_settings.py) is left out by loading as dev.
            patch.setenv("GX_ENVIRONMENT", "dev")
            settings = cls()
        checked += 1
        grpc = [p["containerPort"] for p in container.get("ports", []) if p["name"] == "grpc"]
        if grpc:
            assert settings.listen == f"0.0.0.0:{grpc[0]}", module
        metrics = [p["containerPort"] for p in container.get("ports", []) if p["name"] == "metrics"]
        if metrics:
            assert settings.metrics_listen == f"0.0.0.0:{metrics[0]}", module
        fabric = getattr(settings, "fabric", None)
        if fabric is not None:
            # Every identity the process signs with must be mounted where the settings look.
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            users = ["User1"] if module == "projector" else ["gx_super_admin", "gx_admin", "gx_partner_api"]
            for user in users:
                assert str(fabric.msp_dir_of(user)) in mounts, f"{module}: {user} not mounted"
            assert re.fullmatch(r"[\w.-]+:\d+", fabric.peer_endpoint), fabric.peer_endpoint
    assert checked >= 5
