"""Wallet and licensing record the same client address in audit rows as identity does, in every overlay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.common.settings import ClientAddressSettings
from tests.unit.manifests.kustomize import TARGETS


def _env(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {v["name"]: v["value"] for v in container.get("env", []) if "value" in v}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("service", ["wallet", "licensing"])
def test_services_trust_the_proxies_and_hops_identity_trusts(
    rendered: dict[str, list[dict[str, Any]]], target: str, service: str
) -> None:
    docs = rendered[target]
    identity, env = _env(docs, "identity"), _env(docs, service)
    settings = ClientAddressSettings(
        trusted_proxies=json.loads(env["GX_CLIENT_ADDRESS__TRUSTED_PROXIES"]),
        trusted_hops=int(env["GX_CLIENT_ADDRESS__TRUSTED_HOPS"]),
    )
    assert settings.trusted_proxies == json.loads(identity["GX_IDENTITY__TRUSTED_PROXIES"])
    assert settings.trusted_hops == int(identity["GX_IDENTITY__TRUSTED_HOPS"])
