"""Every process's `__main__` starts on the runtime's loop (`runtime.run`), none on `asyncio.run`:
a new process copying an old entry point would silently leave uvloop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[3]
_MAINS = (
    "services/identity/__main__.py",
    "services/wallet/__main__.py",
    "services/licensing/__main__.py",
    "outbox/__main__.py",
    "projector/__main__.py",
    "notifier/__main__.py",
)


def _calls(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                names.add(f"{func.value.id}.{func.attr}")
            elif isinstance(func, ast.Name):
                names.add(func.id)
    return names


@pytest.mark.parametrize("path", _MAINS)
def test_a_process_starts_its_main_on_the_runtime_loop(path: str) -> None:
    tree = ast.parse((_ROOT / path).read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "services.common.runtime"
        for alias in node.names
    }
    assert "run" in imported and "run" in _calls(tree)
    assert "asyncio.run" not in _calls(tree)
