"""Least-privilege roles (migration 0011): each process's own user may write only what it must.

Real PostgreSQL, the migrated schema and the LOGIN users the dev stack creates: every write a
role must not do is refused with permission denied (42501), and the writes it needs succeed, so
the test fails both on a missing revoke and on a grant that went missing. Every write runs in a
transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.support.roles import grants_database, run_as
from tests.support.stack import PostgresHandle

# A write per target; each is valid SQL against the migrated schema (a refused privilege is checked
# before any row is touched, so the tables may be empty).
_WRITES = {
    "identity": "UPDATE identity.users SET email = email",
    "licensing": "UPDATE licensing.partners SET state = state",
    "ledger": "UPDATE ledger.wallets SET balance_qirat = balance_qirat",
    "ledger_insert": "INSERT INTO ledger.system_status (id, block_number, update_time) VALUES (1, 1, now())",
    "outbox_update": "UPDATE outbox.commands SET status = status",
    "ddl": "CREATE TABLE outbox.intruder (id int)",
}

# What each process must NOT be able to do.
_DENIED = {
    "wallet": ("identity", "licensing", "ledger", "ledger_insert", "outbox_update", "ddl"),
    "identity": ("licensing", "ledger", "ledger_insert", "outbox_update", "ddl"),
    "licensing": ("identity", "ledger", "ledger_insert", "outbox_update", "ddl"),
    "outbox": ("identity", "licensing", "ledger", "ledger_insert", "ddl"),
    "projector": ("identity", "licensing", "outbox_update", "ddl"),
}
# And what it must (the grants are sufficient for these).
_ALLOWED = {
    "identity": ("identity",),
    "licensing": ("licensing",),
    "outbox": ("outbox_update",),
    "projector": ("ledger", "ledger_insert"),
}


@pytest.fixture(scope="module")
def libpq_url(postgres: PostgresHandle) -> Iterator[str]:
    with grants_database(postgres, "roles") as url:
        yield url


@pytest.mark.parametrize(("process", "target"), [(p, t) for p, targets in _DENIED.items() for t in targets])
def test_a_process_cannot_write_what_it_does_not_own(libpq_url: str, process: str, target: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        run_as(libpq_url, process, _WRITES[target])


@pytest.mark.parametrize(("process", "target"), [(p, t) for p, targets in _ALLOWED.items() for t in targets])
def test_a_process_can_write_its_own_tables(libpq_url: str, process: str, target: str) -> None:
    run_as(libpq_url, process, _WRITES[target])


def test_a_service_records_a_command_through_the_outbox(libpq_url: str) -> None:
    # The INSERT fires the live-keys trigger (running as the inserting role) and takes the seq default.
    sql = (
        "INSERT INTO outbox.commands (id, command_type, payload, request_id, order_keys, exclusive_keys)"
        " VALUES (gen_random_uuid(), 'Probe', '{}', gen_random_uuid()::text, ARRAY['w:1'], ARRAY['w:1'])"
    )
    for service in ("wallet", "identity", "licensing"):
        run_as(libpq_url, service, sql)


def test_tables_created_by_a_later_migration_get_the_same_grants(libpq_url: str) -> None:
    # Default privileges: a table the migrating role adds to ledger is the projector's to write
    # and everyone else's to read only.
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE ledger.later (id int)")
    run_as(libpq_url, "projector", "INSERT INTO ledger.later VALUES (1)")
    run_as(libpq_url, "wallet", "SELECT * FROM ledger.later")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(libpq_url, "wallet", "INSERT INTO ledger.later VALUES (1)")


def test_services_map_created_resources_and_read_operations_the_outbox_archives(libpq_url: str) -> None:
    # Migration 0012: record_command writes outbox.resource_ids as the service's own role and
    # operations are read through outbox.operations (queue plus archive); only the outbox moves
    # commands into the archive, and nobody but a service writes the map.
    mapping = (
        "INSERT INTO outbox.resource_ids (public_id, ledger_id, kind, command_type)"
        " VALUES (gen_random_uuid(), gen_random_uuid()::text, 'LOAN', 'APPLY_FOR_LOAN')"
    )
    archive = (
        "INSERT INTO outbox.archived_commands (id, tenant, command_type, payload, request_id, status, attempts,"
        " created_at, updated_at) VALUES (gen_random_uuid(), 'gx', 'PROBE', '{}', gen_random_uuid()::text,"
        " 'COMMITTED', 1, now(), now())"
    )
    for service in ("wallet", "identity", "licensing"):
        run_as(libpq_url, service, mapping)
        run_as(libpq_url, service, "SELECT id, status FROM outbox.operations")
        run_as(libpq_url, service, "SELECT 1 FROM outbox.archived_commands")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            run_as(libpq_url, service, archive)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            run_as(libpq_url, service, "DELETE FROM outbox.resource_ids")
    run_as(libpq_url, "outbox", archive)
    run_as(libpq_url, "outbox", "DELETE FROM outbox.commands WHERE status = 'COMMITTED'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(libpq_url, "projector", mapping)
