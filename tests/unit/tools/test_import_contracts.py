"""The import-linter contracts in pyproject.toml cover every first-party package, and they bite.

`make lint` runs `lint-imports` on the real tree, where every contract is kept; that alone would also
pass with a contract that can never break. So the real `[tool.importlinter]` section runs here against
a tiny tree with the same top-level packages, once clean and once per planted import: each forbidden
import breaks the contract that names it, and the allowed exceptions (another process's declared
`tables` module, nothing else of it) stay narrow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Top-level directories that hold Python but are not first-party packages of the product: the test
# suite, generated code (its `gx` package is listed by name), Alembic's scripts (run by alembic, never
# imported), the SDKs (their own distributions) and what is not ours.
_NOT_PACKAGES = {"tests", "gen", "migrations", "sdk", "third_party", "build", "docs", "data", "protos"}

SERVICES = "Services are independent: they talk gRPC, never import each other"
SERVICES_REACH = (
    "Services reach no peer, worker, chaincode or launcher (the wallet reads the projector's declared tables)"
)
COMMON = "services.common knows no domain: no service, worker, rule or launcher"
COMMON_FABRIC = "services.common does not reach Fabric (else every service would, through it)"
FABRIC_CLIENT = "fabric_client is a library that stands alone"
CHAINCODE = "The chaincode imports only itself, ledger_rules, proto_json, the generated messages and its shim"
RULES = "ledger_rules imports only itself, the standard library and the generated messages"
DEVNET = "devnet shares no code with fabric_client or the chaincode (a shared bug would pass unnoticed)"
WORKERS = "The workers (outbox, projector, notifier) share only the runtime (services.common)"
LAYERS = "Layers: tools > launcher > processes > runtime and client > rules > generated messages"


def _config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        section: dict[str, object] = tomllib.load(f)["tool"]["importlinter"]
    return section


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _config_text() -> str:
    """The `[tool.importlinter]` section of pyproject.toml, as parsed, written back as TOML."""
    config = _config()
    lines = ["[tool.importlinter]"]
    lines += [f"{key} = {_toml(value)}" for key, value in config.items() if key != "contracts"]
    for contract in config["contracts"]:  # type: ignore[attr-defined]
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{key} = {_toml(value)}" for key, value in contract.items()]
    return "\n".join(lines) + "\n"


def _first_party_top_level() -> set[str]:
    found = set()
    for path in ROOT.iterdir():
        if not path.is_dir() or path.name.startswith(".") or path.name.endswith(".egg-info"):
            continue
        if path.name in _NOT_PACKAGES:
            continue
        if (path / "__init__.py").exists() or any(path.glob("*.py")):
            found.add(path.name)
    return found


def test_the_contracts_cover_every_first_party_package() -> None:
    # A new top-level package outside root_packages would be outside every contract.
    assert set(_config()["root_packages"]) == _first_party_top_level() | {"gx"}  # type: ignore[arg-type]


def _tree(tmp_path: Path, planted: dict[str, str]) -> Path:
    """A tree with every root package and the modules the contracts name, plus *planted* modules."""
    root = tmp_path / "tree"
    packages = [
        *_config()["root_packages"],  # type: ignore[misc]
        "services.common",
        "services.identity",
        "services.wallet",
        "services.licensing",
    ]
    for name in packages:
        package = root.joinpath(*name.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
    for module in (
        "projector.tables",
        "projector.handlers",
        "services.identity.tables",
        "services.identity.usecases",
    ):
        root.joinpath(*module.split(".")).with_suffix(".py").write_text("")
    for module, source in planted.items():
        root.joinpath(*module.split(".")).with_suffix(".py").write_text(source + "\n")
    (root / "pyproject.toml").write_text(_config_text())
    return root


def _verdicts(root: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1"}
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Rich wraps long contract names at the terminal width; compare on normalised whitespace.
    text = " ".join(done.stdout.split())
    verdicts = {}
    for contract in _config()["contracts"]:  # type: ignore[attr-defined]
        name = contract["name"]
        found = [v for v in ("KEPT", "BROKEN") if f"{' '.join(name.split())} {v}" in text]
        assert len(found) == 1, f"no verdict for {name!r}: " + done.stdout + done.stderr
        verdicts[name] = found[0]
    assert done.returncode == (1 if "BROKEN" in verdicts.values() else 0), done.stdout + done.stderr
    return verdicts


def test_a_tree_without_forbidden_imports_keeps_every_contract(tmp_path: Path) -> None:
    verdicts = _verdicts(
        _tree(
            tmp_path,
            {
                # The allowed directions: the wallet reads the projector's declared tables, the
                # notifier a service's, processes use the runtime and the rules, all use gx.
                "services.wallet.reads": "import projector.tables\nimport ledger_rules\nimport services.common",
                "notifier.reads": "import services.identity.tables\nimport services.common",
                "chaincode.decide": "import ledger_rules\nimport gx",
                "outbox.work": "import fabric_client\nimport services.common",
                "gx_cli.main": "import devstack\nimport outbox\nimport services.wallet",
            },
        )
    )
    assert set(verdicts.values()) == {"KEPT"}, verdicts


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("services.wallet.bad", "import services.identity", {SERVICES, LAYERS}),
        ("services.wallet.bad", "import projector.handlers", {SERVICES_REACH, LAYERS}),
        ("services.wallet.bad", "import chaincode", {SERVICES_REACH, LAYERS}),
        ("services.licensing.bad", "import fabric_client", {SERVICES_REACH}),
        ("services.common.bad", "import services.wallet", {COMMON, LAYERS}),
        ("services.common.bad", "import fabric_client", {COMMON_FABRIC, LAYERS}),
        ("services.common.bad", "import ledger_rules", {COMMON}),
        ("fabric_client.bad", "import services.common", {FABRIC_CLIENT, LAYERS}),
        ("chaincode.bad", "import sqlalchemy", {CHAINCODE}),
        ("chaincode.bad", "import services.common", {CHAINCODE}),
        ("ledger_rules.bad", "import fabric_chaincode_python", {RULES}),
        ("ledger_rules.bad", "import chaincode", {RULES, LAYERS}),
        ("devnet.bad", "import fabric_client", {DEVNET}),
        ("chaincode.bad", "import devnet", {CHAINCODE, DEVNET, LAYERS}),
        ("projector.bad", "import outbox", {WORKERS, LAYERS}),
        ("notifier.bad", "import services.identity.usecases", {LAYERS}),
        ("edge.bad", "import devstack", {LAYERS}),
    ],
)
def test_a_forbidden_import_breaks_the_contract_that_names_it(
    tmp_path: Path, module: str, source: str, broken: set[str]
) -> None:
    verdicts = _verdicts(_tree(tmp_path, {module: source}))
    assert {name for name, verdict in verdicts.items() if verdict == "BROKEN"} == broken
