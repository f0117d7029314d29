"""The edge is a package of its own: importable beside xds-protos' `envoy`, shipped with its Lua, used by the launcher."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from devstack.config import REPO_ROOT, StackConfig
from devstack.errors import StackError
from devstack.parts import EdgePart
from edge.filters import lua


def test_the_edge_package_leaves_envoys_protos_importable() -> None:
    # As the image runs it: the checkout first on the path. A first-party `envoy` package there
    # would hide xds-protos' `envoy`, whose ext_authz and access-log services licensing serves.
    probe = (
        "import json, edge, envoy.service.auth.v3.external_auth_pb2 as authz;"
        "print(json.dumps([edge.__file__, authz.__file__]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    edge_file, authz_file = map(Path, json.loads(result.stdout))
    assert edge_file.parent == REPO_ROOT / "edge"
    assert not authz_file.is_relative_to(REPO_ROOT / "envoy")


def test_the_lua_ships_with_the_package() -> None:
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "edge*" in setuptools["packages"]["find"]["include"]
    assert "*.lua" in setuptools["package-data"]["edge"]
    for script in (lua.EDGE_SCRIPT, lua.VALIDATE_SCRIPT):
        assert script.parent == REPO_ROOT / "edge" and script.suffix == ".lua"
        assert script.read_text().strip()


def test_the_launcher_reports_an_unroutable_edge_as_a_stack_error(tmp_path: Path) -> None:
    # `gx dev up` prints a StackError in one line; the edge's own error must not escape as a traceback.
    part = EdgePart(services=("redis",))  # a process with a port but no gx.redis.v1 service
    with pytest.raises(StackError, match="no gx service in the descriptor has a process to route to"):
        part.render(StackConfig.on_free_ports(tmp_path), tmp_path / "envoy.json")
    assert not (tmp_path / "envoy.json").exists()
