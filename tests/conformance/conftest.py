"""Installs the official Node Fabric Gateway client from npm (once) for the conformance tests."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
_STAMP = NODE_DIR / "node_modules" / ".gx-lock-sha256"


def _lock_digest() -> str:
    return hashlib.sha256((NODE_DIR / "package-lock.json").read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def node_client() -> Path:
    """Make ``tests/conformance/node/node_modules`` match package-lock.json; return the node dir.

    ``npm ci`` runs when node_modules is missing or was installed from another lock file (a stamp of
    the lock's hash is kept inside node_modules). Optional dependencies (pkcs11js, a native HSM
    module) are skipped: the scenario signs with a PEM key.
    """
    node = shutil.which("node")
    npm = shutil.which("npm")
    assert node and npm, "node and npm are required for the conformance tests"
    digest = _lock_digest()
    # pytest-xdist workers each run this fixture: one installs while the others wait on the lock.
    with (NODE_DIR / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _STAMP.exists() or _STAMP.read_text().strip() != digest:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--omit=optional"],
                cwd=NODE_DIR,
                check=True,
                timeout=600,
                capture_output=True,
            )
            _STAMP.write_text(digest)
    return NODE_DIR
