"""`make lint`'s manifest check: every target renders and passes strict Kubernetes schema validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from manifests import validate
from tests.unit.manifests.kustomize import TARGETS


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_is_valid_for_the_oldest_supported_kubernetes(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    assert validate.problems(rendered[target]) == []


def test_the_validator_checks_every_overlay() -> None:
    assert [p.name for p in validate.targets()] == TARGETS


def _kustomization(tmp_path: Path, service: str) -> Path:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - service.yaml\n")
    (tmp_path / "service.yaml").write_text(service)
    return tmp_path


_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: edge
spec:
  selector:
    app: edge
  ports:
    - port: 8080
"""


def test_a_valid_manifest_passes(tmp_path: Path) -> None:
    assert validate.main([str(_kustomization(tmp_path, _SERVICE))]) == 0


def test_an_unknown_field_fails_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A typo kustomize renders happily: `target_port` instead of `targetPort`.
    directory = _kustomization(tmp_path, _SERVICE + "      target_port: 8080\n")
    assert validate.main([str(directory)]) == 1
    err = capsys.readouterr().err
    assert "Service/edge: spec.ports.0" in err
    assert "'target_port' was unexpected" in err


def test_a_wrong_type_and_an_unknown_kind_fail() -> None:
    docs = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "a"},
            "spec": {"ports": [{"port": "http"}]},
        },
        {"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "b"}},
    ]
    found = validate.problems(docs)
    assert len(found) == 2
    assert found[0].startswith("Service/a: spec.ports.0.port:")
    assert "no Kubernetes 1.30.0 schema for apps/v1 Deploymnet" in found[1]


def test_a_prometheus_rule_is_checked_strictly_too() -> None:
    rule = {"alert": "GxDown", "expr": "up == 0", "for": "1m", "labels": {"severity": "page"}}
    doc = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "gx"},
        "spec": {"groups": [{"name": "gx", "rules": [rule]}]},
    }  # fmt: skip
    assert validate.problems([doc]) == []
    rule["fore"] = rule.pop("for")
    rule["for"] = "one minute"
    found = validate.problems([doc])
    assert any("'fore' was unexpected" in line for line in found), found
    assert any("spec.groups.0.rules.0.for" in line for line in found), found
