"""`make typecheck` covers every first-party package, so a new one cannot join unchecked."""

from __future__ import annotations

import re

from devstack.config import REPO_ROOT

# Directories with Python that are not first-party packages of the mesh: generated code, tests,
# vendored protos, build output, and the client SDK (a distribution of its own).
_NOT_PACKAGES = {"gen", "tests", "third_party", "build", "sdk", "docs", "data"}


def _typed() -> set[str]:
    makefile = (REPO_ROOT / "Makefile").read_text()
    match = re.search(r"^TYPED := (.+)$", makefile, re.M)
    assert match, "the Makefile lists the type-checked packages in TYPED"
    return set(match.group(1).split())


def test_every_top_level_package_is_type_checked() -> None:
    packages = {
        path.name
        for path in REPO_ROOT.iterdir()
        if path.is_dir()
        and not path.name.startswith(".")
        and path.name not in _NOT_PACKAGES
        and not path.name.endswith(".egg-info")
        and any(path.glob("*.py"))
    }
    assert packages, "the checkout has packages"
    assert packages <= _typed(), f"add {sorted(packages - _typed())} to TYPED in the Makefile"


def test_typecheck_names_only_existing_packages() -> None:
    missing = {name for name in _typed() if not (REPO_ROOT / name).is_dir()}
    assert not missing, f"TYPED names {sorted(missing)}, which do not exist"
