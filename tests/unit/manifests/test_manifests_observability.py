"""testnet and mainnet ship the generated dashboards (ConfigMaps for the Grafana sidecar) and alerts."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tools import dashboards


@pytest.mark.parametrize("target", ["testnet", "mainnet"])
def test_the_overlay_ships_every_dashboard_and_the_rules(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    docs = rendered[target]
    namespace = f"gx-{target}"
    maps = {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("gx-dashboard-")
    }
    generated = sorted(dashboards.DASHBOARD_DIR.glob("*.json"))
    assert sorted(maps) == sorted(f"gx-dashboard-{p.stem}" for p in generated)
    for path in generated:
        cm = maps[f"gx-dashboard-{path.stem}"]
        assert cm["metadata"]["namespace"] == namespace
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        # The ConfigMap holds the generated file byte for byte (and it is a dashboard).
        assert cm["data"] == {path.name: path.read_text()}
        assert json.loads(cm["data"][path.name])["uid"].startswith("gx-")
    [rule] = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert rule["metadata"]["namespace"] == namespace
    assert rule["spec"] == yaml.safe_load(dashboards.RULES.read_text())["spec"]


def test_devnet_stays_without_them(rendered: dict[str, list[dict[str, Any]]]) -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in rendered["devnet"]}
    assert not any(kind == "PrometheusRule" or name.startswith("gx-dashboard-") for kind, name in kinds)
