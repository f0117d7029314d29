"""The manifest sources: every YAML parses, every kustomization points at files that exist, no Secret is defined."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.manifests.kustomize import MANIFESTS, OVERLAYS

_YAML_FILES = sorted(MANIFESTS.rglob("*.yaml"))
_KUSTOMIZATIONS = sorted(MANIFESTS.rglob("kustomization.yaml"))


def _load(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _references(kustomization: Path) -> list[Path]:
    """Every file or directory a kustomization names, resolved against its directory."""
    spec = yaml.safe_load(kustomization.read_text())
    here = kustomization.parent
    refs: list[str] = [*spec.get("resources", []), *spec.get("components", [])]
    for patch in spec.get("patches", []):
        if "path" in patch:
            refs.append(patch["path"])
    for generator in spec.get("configMapGenerator", []):
        refs += generator.get("envs", [])
        refs += [f.split("=", 1)[-1] for f in generator.get("files", [])]
    return [here / ref for ref in refs]


def test_the_three_environments_exist() -> None:
    assert OVERLAYS == ["devnet", "mainnet", "testnet"]


@pytest.mark.parametrize("path", _YAML_FILES, ids=lambda p: str(p.relative_to(MANIFESTS)))
def test_every_yaml_file_parses(path: Path) -> None:
    docs = _load(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        if isinstance(doc, dict) and "kind" in doc:
            assert doc.get("apiVersion"), f"{path}: {doc['kind']} without apiVersion"
            assert doc.get("metadata", {}).get("name") or doc["kind"] in ("Kustomization", "Component")


@pytest.mark.parametrize("kustomization", _KUSTOMIZATIONS, ids=lambda p: str(p.parent.relative_to(MANIFESTS)))
def test_kustomization_references_exist(kustomization: Path) -> None:
    missing = []
    for ref in _references(kustomization):
        if not ref.exists():
            missing.append(str(ref))
        elif ref.is_dir() and not (ref / "kustomization.yaml").exists():
            missing.append(f"{ref}/kustomization.yaml")
    assert missing == []


def test_every_overlay_builds_on_the_base() -> None:
    for overlay in OVERLAYS:
        refs = _references(MANIFESTS / "overlays" / overlay / "kustomization.yaml")
        assert (MANIFESTS / "base").resolve() in {r.resolve() for r in refs}, overlay


def test_no_secret_is_defined_in_the_sources() -> None:
    # Secrets are created by operators out of band and referenced by name; a Secret object or a
    # secretGenerator here would put credentials into git.
    offenders = [
        str(path)
        for path in _YAML_FILES
        for doc in _load(path)
        if isinstance(doc, dict) and (doc.get("kind") == "Secret" or "secretGenerator" in doc)
    ]
    assert offenders == []
