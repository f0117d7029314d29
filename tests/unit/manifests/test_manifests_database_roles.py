"""Each process reads its database URL from its own Secret (gx-database-<process>), so each logs in
as its own least-privilege user (migration 0011_process_roles); only the migrate Job's is the owner's."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.postgres import PROCESS_GROUP_ROLES
from tests.unit.manifests.kustomize import OVERLAYS


def _database_secrets(docs: list[dict[str, Any]]) -> dict[str, str]:
    """The Secret behind GX_DATABASE__URL, by workload name (Deployments, Jobs, CronJobs)."""
    secrets = {}
    for doc in docs:
        spec = doc.get("spec", {})
        if doc["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if doc["kind"] not in ("Deployment", "Job", "CronJob"):
            continue
        for container in spec["template"]["spec"]["containers"]:
            for var in container.get("env", []):
                if var["name"] == "GX_DATABASE__URL":
                    secrets[doc["metadata"]["name"]] = var["valueFrom"]["secretKeyRef"]["name"]
    return secrets


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_its_own_database_secret(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    secrets = _database_secrets(rendered[overlay])
    by_process = {name.removeprefix("gx-"): secret for name, secret in secrets.items()}
    for process in PROCESS_GROUP_ROLES:
        assert by_process[process] == f"gx-database-{process}"
    owners = {name for name, secret in secrets.items() if secret == "gx-database-migrate"}
    assert owners and all("migrate" in name or "backup" in name for name in owners)
    assert "gx-database" not in secrets.values()
