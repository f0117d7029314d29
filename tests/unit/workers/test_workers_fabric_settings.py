"""Every fabric_client option reaches every worker: the workers nest FabricSettings itself, whole.

A new FabricSettings field must be settable through each worker's `GX_FABRIC__*` environment and
reach the settings the worker connects with, with no edit to the workers. This test walks the
fields, so it covers the next field too (and asks for a sample value when a new type appears).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic.fields import FieldInfo

from fabric_client import FabricSettings
from outbox.settings import OutboxSettings
from projector.settings import ProjectorSettings
from services.common.settings import ServiceSettings

WORKERS: dict[str, type[ServiceSettings]] = {"outbox": OutboxSettings, "projector": ProjectorSettings}


def _sample(name: str, field: FieldInfo) -> tuple[str, Any]:
    """A value unlike the default, as an environment string and as the parsed value."""
    kind = field.annotation
    if kind is str:
        return f"{name}-value", f"{name}-value"
    if kind is int:
        return str(field.default + 7), field.default + 7
    if kind is float:
        return str(field.default + 0.5), field.default + 0.5
    if kind == Path | None:
        return f"/gx/{name}", Path(f"/gx/{name}")
    if kind == str | None:
        return f"{name}-value", f"{name}-value"
    if kind == dict[str, Path]:
        return json.dumps({"gx_admin": f"/gx/{name}"}), {"gx_admin": Path(f"/gx/{name}")}
    raise AssertionError(f"teach this test a sample value for FabricSettings.{name}: {kind}")


def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in [key for key in os.environ if key.startswith("GX_")]:
        monkeypatch.delenv(key)


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_every_fabric_client_option_is_settable_through_the_workers_environment(
    worker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_environment(monkeypatch)
    expected = {}
    for name, field in FabricSettings.model_fields.items():
        text, value = _sample(name, field)
        monkeypatch.setenv(f"GX_FABRIC__{name.upper()}", text)
        expected[name] = value
    fabric = WORKERS[worker]().fabric  # type: ignore[attr-defined]
    assert type(fabric) is FabricSettings
    assert {name: getattr(fabric, name) for name in expected} == expected
    assert len(expected) >= 20  # the walk saw the whole model


def test_the_identity_a_worker_signs_as_keeps_every_other_option() -> None:
    # The outbox signs as each gxc_role, the projector reads as its reader: both through
    # for_user, which must carry every field (a new one too) and change only the MSP folder.
    values = {name: _sample(name, field)[1] for name, field in FabricSettings.model_fields.items()}
    values["role_msp_dirs"] = {"gx_admin": Path("/mounted/gx_admin")}
    values["org_dir"] = Path("/orgs/org1.example.com")
    settings = FabricSettings(**values)
    for user, msp in [
        ("gx_admin", Path("/mounted/gx_admin")),
        ("User1", Path("/orgs/org1.example.com/users/User1@org1.example.com/msp")),
    ]:
        signing = settings.for_user(user)
        assert signing.msp_dir == msp
        assert signing.model_dump(exclude={"msp_dir"}) == settings.model_dump(exclude={"msp_dir"})


def test_a_worker_without_a_named_identity_is_refused_with_the_setting_to_give() -> None:
    with pytest.raises(ValueError, match="GX_FABRIC__ORG_DIR"):
        FabricSettings().for_user("gx_admin")


def test_the_deployed_variable_names_keep_working(monkeypatch: pytest.MonkeyPatch) -> None:
    # Manifests and the dev stack set GX_FABRIC__ENDPOINT (the field is peer_endpoint).
    _clean_environment(monkeypatch)
    monkeypatch.setenv("GX_FABRIC__ENDPOINT", "peer0.example:7051")
    monkeypatch.setenv("GX_FABRIC__ROLE_MSP_DIRS", json.dumps({"User1": "/var/run/gx/fabric/User1"}))
    for cls in WORKERS.values():
        fabric = cls().fabric  # type: ignore[attr-defined]
        assert fabric.peer_endpoint == "peer0.example:7051"
        assert fabric.msp_dir_of("User1") == Path("/var/run/gx/fabric/User1")
