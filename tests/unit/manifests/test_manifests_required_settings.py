"""testnet and mainnet run every process outside dev (GX_ENVIRONMENT), and give each process every
setting its settings class requires there, so the fail-fast check never stops a correct deployment."""

from __future__ import annotations

from typing import Any

import pytest

from outbox.settings import OutboxSettings
from projector.settings import ProjectorSettings
from services.common.settings import ServiceSettings
from services.identity.settings import IdentitySettings
from services.licensing.settings import LicensingSettings
from services.wallet.settings import WalletSettings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "services.identity": IdentitySettings,
    "services.wallet": WalletSettings,
    "services.licensing": LicensingSettings,
    "outbox": OutboxSettings,
    "projector": ProjectorSettings,
}


def _variable(path: str) -> str:
    return "GX_" + "__".join(part.upper() for part in path.split("."))


def _config(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    return next(
        o.get("data", {}) for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name
    )


@pytest.mark.parametrize("overlay", ["testnet", "mainnet"])
def test_every_process_runs_outside_dev_with_its_required_settings(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    objects = rendered[overlay]
    seen = set()
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            command = container.get("command") or []
            module = command[2] if command[:2] == ["python", "-m"] else None
            if module not in SETTINGS:
                continue
            seen.add(module)
            given = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    given |= set(_config(objects, source["configMapRef"]["name"]))
                    environment = _config(objects, source["configMapRef"]["name"]).get("GX_ENVIRONMENT")
            assert environment == overlay, (module, environment)
            missing = {_variable(p) for p in SETTINGS[module].required_outside_dev} - given
            assert not missing, (overlay, module, missing)
    assert seen == set(SETTINGS)
