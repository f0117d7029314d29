"""The Containerfile's invariants, read from the file itself (no build: `make image` is by hand).

One image runs every process, so these are the promises the manifests rely on: a non-root uid that
matches their securityContext, dependencies at requirements.lock's pins, the generated code and the
descriptor set inside, an entry point that runs any module, and the name `make image` tags.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CONTAINERFILE = ROOT / "Containerfile"
IMAGE_SCRIPT = ROOT / "tools" / "image.sh"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]


def parse(text: str) -> tuple[list[tuple[str, str]], list[Stage]]:
    """Split a Containerfile into (instructions before the first FROM, stages)."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Containerfile ends inside a continued line"
    preamble: list[tuple[str, str]] = []
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, rest))
        else:
            preamble.append((keyword, rest))
    return preamble, stages


def env_of(stage: Stage) -> dict[str, str]:
    found: dict[str, str] = {}
    for rest in stage.args("ENV"):
        for word in shlex.split(rest):
            key, _, value = word.partition("=")
            found[key] = value
    return found


def ignored(relpath: str) -> bool:
    """Whether .containerignore keeps `relpath` (or a parent directory) out of the build context."""
    patterns = [p.strip() for p in (ROOT / ".containerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "this check does not handle exceptions"
    parts = relpath.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], pattern[3:])
            ):
                return True
    return False


@pytest.fixture(scope="module")
def containerfile() -> tuple[list[tuple[str, str]], list[Stage]]:
    return parse(CONTAINERFILE.read_text())


def test_multi_stage_on_one_overridable_base(
    containerfile: tuple[list[tuple[str, str]], list[Stage]],
) -> None:
    preamble, stages = containerfile
    assert len(stages) >= 2, "a build stage and a runtime stage"
    assert ("ARG", "BASE=python:3.11-slim-bookworm") in preamble, (
        "builders with a registry get the stock image"
    )
    # `make image` swaps every stage's base through BASE, so none may name a registry image itself.
    assert {s.base for s in stages} == {"${BASE}"}
    assert "--build-arg BASE=" in IMAGE_SCRIPT.read_text()


def test_runs_as_uid_10001_as_the_manifests_require(
    containerfile: tuple[list[tuple[str, str]], list[Stage]],
) -> None:
    _, stages = containerfile
    final = stages[-1]
    users = final.args("USER")
    assert users and users[-1].split(":") == ["10001", "10001"], "numeric, so runAsNonRoot can verify it"
    created = " ".join(final.args("RUN"))
    assert "--uid 10001" in created and "--gid 10001" in created
    for manifest in (ROOT / "manifests" / "base").glob("*.yaml"):
        for doc in yaml.safe_load_all(manifest.read_text()):
            spec = _pod_spec(doc)
            if spec is not None:
                assert spec["securityContext"]["runAsUser"] == 10001, manifest.name


def test_dependencies_install_at_the_locked_pins(
    containerfile: tuple[list[tuple[str, str]], list[Stage]],
) -> None:
    _, stages = containerfile
    installs = [r for s in stages for r in s.args("RUN") if "pip install" in r]
    assert installs, "no pip install"
    for command in installs:
        assert re.search(r"pip install\b.*\s-c requirements\.lock\s", command + " "), command
    assert not ignored("requirements.lock") and not ignored("pyproject.toml")


def test_generated_code_and_descriptor_are_inside(
    containerfile: tuple[list[tuple[str, str]], list[Stage]],
) -> None:
    _, stages = containerfile
    build = next(s for s in stages if s.name == "build")
    work = build.args("WORKDIR")[-1]
    steps = " ".join(build.args("RUN"))
    assert "tools/protogen.py" in steps and "buf build -o build/gx.binpb" in steps
    final = stages[-1]
    assert f"--from=build {work} {work}" in final.args("COPY"), "the runtime stage takes the build's tree"
    env = env_of(final)
    assert f"{work}/gen/python" in env["PYTHONPATH"].split(":")
    assert env["GX_EDGE_DESCRIPTOR"] == f"{work}/build/gx.binpb"
    for needed in (
        "protos",
        "tools/protogen.py",
        "buf.yaml",
        "alembic.ini",
        "migrations",
        "edge/validate.lua",
    ):
        assert (ROOT / needed).exists() and not ignored(needed), needed


def test_entrypoint_runs_any_module(containerfile: tuple[list[tuple[str, str]], list[Stage]]) -> None:
    _, stages = containerfile
    final = stages[-1]
    assert [json.loads(e) for e in final.args("ENTRYPOINT")][-1] == ["python", "-m"]
    cmd = json.loads(final.args("CMD")[-1])
    assert _module_file(cmd[0]) is not None, cmd
    assert env_of(final)["PATH"].startswith("/opt/gx/bin:"), "python, gx and envoy from the virtualenv"


def test_every_module_the_manifests_run_is_in_the_build_context() -> None:
    modules = set()
    for manifest in (ROOT / "manifests").rglob("*.yaml"):
        for doc in yaml.safe_load_all(manifest.read_text()):
            spec = _pod_spec(doc)
            for c in [] if spec is None else [*spec.get("initContainers", []), *spec["containers"]]:
                command = c.get("command", [])
                if command[:2] == ["python", "-m"]:
                    modules.add(command[2])
    assert {"services.identity", "outbox", "projector", "manifests.edge_config"} <= modules
    for module in modules:
        path = _module_file(module)
        assert path is not None, module
        assert not ignored(str(path.relative_to(ROOT))), module


def test_manifests_name_the_image_make_image_tags() -> None:
    tagged = re.search(r"^NAME=(\S+)", IMAGE_SCRIPT.read_text(), re.M)
    assert tagged, "tools/image.sh names the image"
    names = set()
    for manifest in (ROOT / "manifests").rglob("*.yaml"):
        for doc in yaml.safe_load_all(manifest.read_text()):
            if not isinstance(doc, dict):
                continue
            for image in doc.get("images", []):  # kustomization: the name it rewrites
                names.add(image["name"])
                assert image["newName"].rsplit("/", 1)[-1] == tagged.group(1), manifest
            spec = _pod_spec(doc)
            for c in [] if spec is None else [*spec.get("initContainers", []), *spec["containers"]]:
                names.add(c["image"])
    assert names == {tagged.group(1)}


def test_containerignore_and_dockerignore_agree() -> None:
    # buildah reads .containerignore; older Docker only .dockerignore.
    assert (ROOT / ".containerignore").read_text() == (ROOT / ".dockerignore").read_text()
    assert ignored(".venv") and ignored("build/gx.binpb") and ignored("sdk/typescript/node_modules/x")


def test_hadolint_clean() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(CONTAINERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _pod_spec(doc: Any) -> dict[str, Any] | None:
    if not isinstance(doc, dict) or doc.get("kind") not in ("Deployment", "StatefulSet", "Job", "CronJob"):
        return None
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec")


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base / "__main__.py", base.with_suffix(".py")):
        if candidate.exists():
            return candidate
    return None
