"""Only the projector writes the `ledger` read models; services and the outbox only read them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_WRITE = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+ledger\.", re.IGNORECASE)


def test_no_code_outside_the_projector_writes_ledger_tables() -> None:
    offenders = []
    for folder in ("services", "outbox", "gx_cli", "chaincode", "devnet", "fabric_client"):
        for path in (ROOT / folder).rglob("*.py"):
            if _WRITE.search(path.read_text(errors="replace")):
                offenders.append(str(path.relative_to(ROOT)))
    # gx_cli/projector.py only calls projector.rebuild; it holds no SQL of its own.
    assert offenders == [], f"read models written outside projector/: {offenders}"


def test_the_projector_does_write_them() -> None:
    handlers = (ROOT / "projector" / "handlers.py").read_text()
    assert _WRITE.search(handlers)  # the check above can find a write when there is one
