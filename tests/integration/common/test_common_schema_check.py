"""`make schema-check`: the migrations at head and the declared tables agree, and a drift is reported."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import Index, Integer, text
from sqlalchemy.sql.schema import DefaultClause

from projector import tables as ledger
from services.licensing import tables as licensing
from tools import schema_check


def test_the_migrations_at_head_match_the_declared_tables(fresh_url: str) -> None:
    assert schema_check.check(fresh_url) is None


def test_a_declaration_that_drifts_from_the_migrations_is_reported(fresh_url: str) -> None:
    balance, status, phase = (
        ledger.wallets.c.balance_qirat,
        ledger.users.c.status,
        ledger.countries.c.genesis_phase,
    )
    saved = (balance.type, status.nullable, phase.server_default, set(ledger.loans.indexes))
    extra = Index("partners_name_idx", licensing.partners.c.name)
    try:
        balance.type = Integer()
        status.nullable = True
        phase.server_default = DefaultClause(text("2"))
        ledger.loans.indexes.clear()
        licensing.partners.append_constraint(extra)
        problems = schema_check.check(fresh_url)
    finally:
        balance.type, status.nullable, phase.server_default = saved[:3]
        ledger.loans.indexes.update(saved[3])
        licensing.partners.indexes.discard(extra)
    assert problems is not None
    for expected in (
        "'modify_type', 'ledger', 'wallets', 'balance_qirat'",
        "'modify_nullable', 'ledger', 'users', 'status'",
        "'modify_default', 'ledger', 'countries', 'genesis_phase'",
        "'remove_index', Index('loans_borrower_idx'",
        "'add_index', Index('partners_name_idx'",
    ):
        assert expected in problems, f"{expected} not reported in:\n{problems}"


def test_the_tool_runs_on_its_own_server_from_any_directory() -> None:
    # What `make schema-check` runs: its own throwaway server, whatever the working directory.
    tool = schema_check.ROOT / "tools" / "schema_check.py"
    done = subprocess.run(
        [sys.executable, str(tool)],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert "match the declared tables" in done.stdout
