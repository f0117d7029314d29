"""Fixtures for the manifest tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.manifests.kustomize import TARGETS, build


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every target's rendered objects (base and each overlay), by target name."""
    return {target: build(target) for target in TARGETS}
