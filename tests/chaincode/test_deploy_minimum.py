"""The chaincode runs from what its deployment copies: chaincode/, ledger_rules/, proto_json/ and the ledger protos.

README "Deploying as CCaaS" says what a chaincode image holds. import-linter checks the imports in
the source statically; this builds that file set in a temporary directory, takes the checkout off the
path and starts the real chaincode from it, so a rule moved somewhere the image does not carry fails
here rather than on a peer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The top-level packages a chaincode image carries (README "Deploying as CCaaS").
DEPLOYED = ("chaincode", "ledger_rules", "proto_json")

# Only the interpreter's own paths stay (stdlib and site-packages: the shim, the Fabric protos,
# protobuf); the checkout, its gen/python and the editable install's finder (which maps our package
# names to the checkout) are removed, and the copy goes first.
_PROBE = """
import sys
repo, copy = sys.argv[1], sys.argv[2]
def checkout(path):  # the virtualenv may live inside the checkout; it is the interpreter's own
    return path.startswith(repo) and not path.startswith(sys.prefix)
sys.path[:] = [copy, copy + "/gen/python"] + [p for p in sys.path if p and not checkout(p)]
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in str(getattr(f, "__module__", ""))]
import chaincode.__main__, chaincode.app
chaincode.app.build_chaincode()
print(sorted(name for name, module in sys.modules.items() if checkout(getattr(module, "__file__", None) or "")))
"""


def _image(tmp_path: Path, packages: tuple[str, ...]) -> Path:
    """The files a chaincode image holds: *packages* and the generated ledger and type messages."""
    copy = tmp_path / "image"
    ignore = shutil.ignore_patterns("__pycache__")
    for package in packages:
        shutil.copytree(REPO_ROOT / package, copy / package, ignore=ignore)
    for protos in ("ledger", "type"):
        shutil.copytree(REPO_ROOT / "gen/python/gx" / protos, copy / "gen/python/gx" / protos, ignore=ignore)
    return copy


def _start(copy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, str(REPO_ROOT), str(copy)],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_chaincode_builds_from_its_deployed_files_alone(tmp_path: Path) -> None:
    done = _start(_image(tmp_path, DEPLOYED))
    assert done.returncode == 0, done.stderr
    # Not one module came from the checkout.
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_without_ledger_rules_the_chaincode_does_not_start(tmp_path: Path) -> None:
    # The probe above would pass vacuously if the checkout leaked onto the path: without the rules
    # package in the copy, the same start must fail on exactly that import.
    done = _start(_image(tmp_path, ("chaincode", "proto_json")))
    assert done.returncode != 0
    assert "No module named 'ledger_rules'" in done.stderr


def test_without_proto_json_the_chaincode_does_not_start(tmp_path: Path) -> None:
    # The codec is imported by every contract: an image without it must fail at start, not later.
    done = _start(_image(tmp_path, ("chaincode", "ledger_rules")))
    assert done.returncode != 0
    assert "No module named 'proto_json'" in done.stderr
