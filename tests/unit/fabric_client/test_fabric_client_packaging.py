"""fabric_client is typed (PEP 561): the package carries `py.typed` and the package build ships it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import fabric_client

_ROOT = Path(__file__).resolve().parents[3]


def test_the_package_build_ships_py_typed_beside_the_modules(tmp_path: Path) -> None:
    assert (Path(fabric_client.__file__).parent / "py.typed").is_file()
    # setuptools' build_py with the project's own pyproject.toml (what a wheel's contents come
    # from), run on a copy so the shared checkout gets no build/ or egg-info.
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(_ROOT / "pyproject.toml", source / "pyproject.toml")
    shutil.copytree(
        _ROOT / "fabric_client", source / "fabric_client", ignore=shutil.ignore_patterns("__pycache__")
    )
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "import setuptools; setuptools.setup()",
            "-q",
            "build_py",
            "--build-lib",
            "lib",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    shipped = {path.relative_to(source / "lib").as_posix() for path in (source / "lib").rglob("*")}
    assert {"fabric_client/py.typed", "fabric_client/settings.py"} <= shipped
