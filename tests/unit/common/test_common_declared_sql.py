"""Hand-written SQL names only declared tables and columns, so a renamed column fails here, not in integration."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from sqlalchemy import Column, MetaData, Table

from tests.unit.common import declared_sql


def _declared() -> ModuleType:
    # migrations/ is not a package: load the owners' list the way migrations/env.py does.
    spec = importlib.util.spec_from_file_location(
        "gx_migrations_declared", declared_sql.ROOT / "migrations" / "declared.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLES: dict[str, Table] = _declared().all_tables()
SCHEMAS = frozenset(table.schema for table in TABLES.values() if table.schema)
STATEMENTS = declared_sql.all_statements(SCHEMAS)


def _renamed(table: Table, old: str, new: str) -> Table:
    """A copy of `table` whose column `old` is called `new` (as after a rename in its declaration)."""
    columns = [Column(new if c.name == old else c.name, c.type) for c in table.columns]
    return Table(table.name, MetaData(schema=table.schema), *columns)


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.where for s in STATEMENTS])
def test_statement_names_only_declared_tables_and_columns(statement: declared_sql.Statement) -> None:
    assert declared_sql.problems(statement.sql, TABLES) == []


def test_the_scan_finds_the_hot_statements_of_every_owner() -> None:
    # A scanner that found nothing would pass the test above vacuously.
    places = {s.where.split(":")[0] for s in STATEMENTS}
    for module in (
        "projector/handlers.py",
        "services/wallet/readmodels.py",
        "services/common/idempotency.py",
        "outbox/repository.py",
    ):
        assert module in places, f"no statement found in {module}"
    assert sum(s.where.startswith("projector/handlers.py") for s in STATEMENTS) >= 10


def test_a_renamed_column_is_caught_wherever_the_old_name_is_used() -> None:
    tables = dict(TABLES)
    tables["ledger.wallets"] = _renamed(TABLES["ledger.wallets"], "balance_qirat", "balance")
    caught = [s.where for s in STATEMENTS if declared_sql.problems(s.sql, tables)]
    # Handlers write it, the wallet reads it (the hot transfer view among them).
    assert any(where.startswith("projector/handlers.py") for where in caught)
    assert any(where.startswith("services/wallet/readmodels.py") for where in caught)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "SELECT balance FROM ledger.wallets WHERE wallet_id = :w",
            "column balance is in none of ledger.wallets",
        ),
        ("SELECT w.balance FROM ledger.wallets w", "column ledger.wallets.balance is not declared"),
        ("SELECT 1 FROM ledger.wallet", "table ledger.wallet is not declared"),
        (
            "INSERT INTO ledger.admins (user_id, appointed) VALUES (:u, :a)",
            "inserted column ledger.admins.appointed",
        ),
        ("UPDATE ledger.users SET state = 'X' WHERE user_id = :u", "assigned column ledger.users.state"),
        (
            "INSERT INTO ledger.votes (proposal_id, voter_id, support, block_number) VALUES (:p, :v, :s, :b)"
            " ON CONFLICT (proposal_id, voter_id) DO UPDATE SET support = EXCLUDED.supports",
            "column ledger.votes.supports is not declared",
        ),
        (
            "SELECT k.id FROM licensing.api_keys k JOIN licensing.licenses l ON l.id = k.license_id WHERE l.tiers = 'X'",
            "column licensing.licenses.tiers is not declared",
        ),
        (
            "SELECT x FROM (SELECT 1) one LEFT JOIN ledger.system_status s ON s.id = 1",
            "column x is in none of",
        ),
    ],
)
def test_the_check_reports_what_the_declarations_lack(sql: str, problem: str) -> None:
    assert any(problem in found for found in declared_sql.problems(sql, TABLES))


def test_names_a_statement_defines_itself_are_not_reported() -> None:
    sql = (
        "WITH recent AS (SELECT wallet_id, balance_qirat AS amount FROM ledger.wallets)"
        " SELECT r.amount, amount, u.at FROM recent r, unnest(CAST(:ats AS timestamptz[])) AS u(at) ORDER BY amount"
    )
    assert declared_sql.problems(sql, TABLES) == []
