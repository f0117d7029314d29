"""Migration 0020 on real PostgreSQL: wallets with entries before it get a version, the projector's
own role takes new ones (the triggers run as the writer), and it goes down and up again."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from alembic import command

from devstack.postgres import ensure_process_users
from services.common import migrate
from services.common.db import libpq_dsn
from tests.support.roles import run_as


def _versions(url: str) -> dict[str, int]:
    with psycopg.connect(libpq_dsn(url)) as conn:
        rows = conn.execute("SELECT wallet_id, version FROM ledger.wallet_history_versions").fetchall()
    return {wallet: int(version) for wallet, version in rows}


def _has_table(url: str) -> bool:
    with psycopg.connect(libpq_dsn(url)) as conn:
        found = conn.execute("SELECT to_regclass('ledger.wallet_history_versions') IS NOT NULL").fetchone()
    return bool(found and found[0])


_WALLET = (
    "INSERT INTO ledger.wallets (wallet_id, account_type, balance_qirat, block_number, fabric_tx_id)"
    " VALUES ('{w}', 'USER', 0, 1, 'tx')"
)
_ENTRY = (
    "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type, amount_qirat,"
    " block_number, time) VALUES ('{tx}', 0, 0, '{w}', 'RECEIVED', 1, 2, now())"
)


async def test_existing_wallets_get_versions_and_the_projector_role_takes_new_ones(fresh_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0019_outbox_accept_writes")
    with psycopg.connect(libpq_dsn(fresh_url), autocommit=True) as conn:
        for wallet in ("old-a", "old-b", "quiet"):
            conn.execute(_WALLET.format(w=wallet))
        conn.execute(_ENTRY.format(tx="t0", w="old-a"))
        conn.execute(_ENTRY.format(tx="t0", w="old-b").replace("0, 0,", "0, 1,"))
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0020_wallet_history_version")
    before = _versions(fresh_url)
    # Every wallet with entries has a version of its own; one without has none (reads as 0).
    assert set(before) == {"old-a", "old-b"} and len(set(before.values())) == 2 and min(before.values()) >= 1
    # As the projector writes: its own least-privilege role inserts the entry; the trigger's
    # upsert and nextval run as that role.
    ensure_process_users(libpq_dsn(fresh_url))
    run_as(libpq_dsn(fresh_url), "projector", _ENTRY.format(tx="t1", w="old-a"), commit=True)
    run_as(libpq_dsn(fresh_url), "projector", _ENTRY.format(tx="t2", w="quiet"), commit=True)
    after = _versions(fresh_url)
    assert after["old-a"] > max(before.values()) and after["old-b"] == before["old-b"]
    assert after["quiet"] > after["old-a"]
    # The wallet reads the versions with its history page, as its own role; it cannot write them.
    read = run_as(libpq_dsn(fresh_url), "wallet", "SELECT version FROM ledger.wallet_history_versions")
    assert read.rowcount == 3
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(libpq_dsn(fresh_url), "wallet", "UPDATE ledger.wallet_history_versions SET version = 1")


async def test_the_migration_goes_down_and_up_again(fresh_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0020_wallet_history_version")
    assert _has_table(fresh_url)
    await asyncio.to_thread(command.downgrade, migrate.alembic_config(fresh_url), "0019_outbox_accept_writes")
    assert not _has_table(fresh_url)
    with psycopg.connect(libpq_dsn(fresh_url), autocommit=True) as conn:
        conn.execute(_WALLET.format(w="w"))
        conn.execute(_ENTRY.format(tx="t", w="w"))  # no trigger left behind
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0020_wallet_history_version")
    assert set(_versions(fresh_url)) == {"w"}  # entries recorded while it was down get a version
