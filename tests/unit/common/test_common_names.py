"""Cross-process names live in services.common.names alone: no other first-party file spells them out."""

from __future__ import annotations

from pathlib import Path

from services.common import names

_ROOT = Path(__file__).resolve().parents[3]
_PACKAGES = ("services", "outbox", "projector", "gx_cli", "devstack", "migrations", "fabric_client", "tools")


def _first_party_sources() -> list[Path]:
    return [
        path
        for package in _PACKAGES
        for path in (_ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    ]


def test_no_module_but_names_spells_out_a_cross_process_name() -> None:
    spelled = {
        f"'{names.OUTBOX_NOTIFY_CHANNEL}'",
        f'"{names.OUTBOX_NOTIFY_CHANNEL}"',
        f"LISTEN {names.OUTBOX_NOTIFY_CHANNEL}",
        f'"{names.NOTIFIER_NOTIFY_CHANNEL}"',
        "gx-projector:",
        "idempotency_records.purge",
        f'"{names.REVOCATION_KEY_PREFIX}',
        f'"{names.IDEMPOTENCY_LOCK_PREFIX}',
    }
    own = Path(names.__file__).resolve()
    found = [
        f"{path.relative_to(_ROOT)}: {literal}"
        for path in _first_party_sources()
        if path.resolve() != own
        for literal in spelled
        if literal in path.read_text(encoding="utf-8")
    ]
    assert len(_first_party_sources()) > 50  # the scan really saw the tree
    assert found == []


def test_lock_ids_fit_postgresql_bigint_and_differ_per_projection() -> None:
    keys = {names.projector_lock(channel, "gx") for channel in ("gxchannel", "other", "gxchannel2")}
    assert len(keys) == 3
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert names.projector_lock("gxchannel", "gx") == names.projector_lock("gxchannel", "gx")
    assert 0 <= names.IDEMPOTENCY_PURGE_LOCK < 2**32
