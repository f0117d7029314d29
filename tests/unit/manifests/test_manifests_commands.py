"""The commands the manifests run are commands the code accepts."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

import pytest

from tests.unit.manifests.kustomize import TARGETS


def _commands(docs: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    found = []
    for obj in docs:
        if obj["kind"] in ("Deployment", "Job"):
            spec = obj["spec"]["template"]["spec"]
            for c in [*spec.get("initContainers", []), *spec["containers"]]:
                found.append((f"{obj['metadata']['name']}/{c['name']}", c["command"]))
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_every_python_module_the_manifests_run_exists_or_is_planned(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    # Every module the manifests run must import today (licensing exists since issue 8).
    planned = {"services.wallet"}
    missing = []
    for name, command in _commands(rendered[target]):
        if command[:2] == ["python", "-m"] and command[2] not in planned:
            try:
                importlib.import_module(
                    f"{command[2]}.__main__" if command[2] != "manifests.edge_config" else command[2]
                )
            except ModuleNotFoundError as exc:
                missing.append(f"{name}: {command[2]} ({exc})")
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
