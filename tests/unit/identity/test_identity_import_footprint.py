"""Identity's base memory is what it imports (README, Memory): no other service's code or protos creep in."""

from __future__ import annotations

import json
import subprocess
import sys

# Packages identity never uses. Each one imported would add its modules' code objects to a base
# that, with two Argon2 hashes in flight, is what keeps identity's peak near 150 MB.
_FOREIGN = (
    "services.wallet",
    "services.licensing",
    "outbox",
    "notifier",
    "devnet",
    "chaincode",
    "fabric_client",
    "devstack",
    "gx_cli",
    "gx.wallet.v1.wallet_service_pb2",
    "gx.licensing",
    "gx.ops",
    "gx.ledger.v1.events_pb2",
    "gx.ledger.v1.queries_pb2",
    "alembic",
    "httpx",
)

_LIST_MODULES = "import json, sys, services.identity.__main__; print(json.dumps(sorted(sys.modules)))"


def _foreign(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == f or m.startswith(f + ".") for f in _FOREIGN)]


def test_identity_imports_no_other_service() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES], capture_output=True, text=True, timeout=120, check=True
    )
    modules = json.loads(out.stdout)
    assert "services.identity.server" in modules  # the process's whole import graph was loaded
    assert _foreign(modules) == []


def test_the_check_sees_a_foreign_module() -> None:
    assert _foreign(["gx.licensing.v1.licensing_pb2", "services.wallet", "gx.wallet.v1.wallet_pb2"]) == [
        "gx.licensing.v1.licensing_pb2",
        "services.wallet",
    ]
