"""`import ledger_rules as rules` offers every name it declares, and each rule is defined in one module."""

from __future__ import annotations

import ast
from pathlib import Path

import ledger_rules as rules


def test_every_declared_name_is_importable_from_the_package() -> None:
    missing = [name for name in rules.__all__ if not hasattr(rules, name)]
    assert missing == []


def _defined(path: Path) -> set[str]:
    """Public names a module defines itself (assignments, functions, classes; not imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def test_each_public_name_is_defined_in_one_rule_module_only() -> None:
    # Two definitions of one name (a reason string, a threshold) would be two sources for one rule.
    owners: dict[str, list[str]] = {}
    for path in sorted(Path(rules.__file__).parent.glob("*.py")):
        if path.name != "__init__.py":
            for name in _defined(path):
                owners.setdefault(name, []).append(path.stem)
    assert {name: where for name, where in owners.items() if len(where) > 1} == {}
