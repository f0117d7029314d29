"""The audit trail is append-only (migration 0016), on real PostgreSQL as each process's own user.

The services record and read audit events; no process may change or remove one, nor truncate the
table; processes that have no business with it cannot even read it.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from devstack.postgres import PROCESS_GROUP_ROLES
from tests.support.roles import grants_database, run_as
from tests.support.stack import PostgresHandle

_INSERT = (
    "INSERT INTO audit.events (id, service, action, actor, subject)"
    " VALUES (gen_random_uuid(), 'test', 'test.Act', 'someone', 'users/x')"
)
_CHANGES = (
    "UPDATE audit.events SET action = 'rewritten'",
    "DELETE FROM audit.events",
    "TRUNCATE audit.events",
)
_SERVICES = ("identity", "wallet", "licensing")


@pytest.fixture(scope="module")
def libpq_url(postgres: PostgresHandle) -> Iterator[str]:
    with grants_database(postgres, "audit_roles") as url:
        # One row to rewrite or delete, so a refusal is the grant's, not an empty table's.
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute(_INSERT)
        yield url


@pytest.mark.parametrize("process", _SERVICES)
def test_services_record_and_read_audit_events(libpq_url: str, process: str) -> None:
    assert run_as(libpq_url, process, _INSERT).rowcount == 1
    assert run_as(libpq_url, process, "SELECT id FROM audit.events").rowcount >= 1


@pytest.mark.parametrize("process", sorted(PROCESS_GROUP_ROLES))
@pytest.mark.parametrize("sql", _CHANGES)
def test_no_process_updates_deletes_or_truncates_an_audit_event(
    libpq_url: str, process: str, sql: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(libpq_url, process, sql)


@pytest.mark.parametrize("process", sorted(set(PROCESS_GROUP_ROLES) - set(_SERVICES)))
def test_workers_neither_record_nor_read_the_trail(libpq_url: str, process: str) -> None:
    for sql in (_INSERT, "SELECT id FROM audit.events"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            run_as(libpq_url, process, sql)


def test_the_trail_keeps_every_row(libpq_url: str) -> None:
    with psycopg.connect(libpq_url, connect_timeout=5) as conn:
        assert conn.execute("SELECT count(*) FROM audit.events").fetchone() == (1,)


@pytest.mark.parametrize("sql", _CHANGES)
def test_the_reader_role_reads_but_never_changes_the_trail(libpq_url: str, sql: str) -> None:
    with psycopg.connect(libpq_url, connect_timeout=5) as conn:
        try:
            conn.execute("SET LOCAL ROLE gx_reader")
            assert conn.execute("SELECT count(*) FROM audit.events").fetchone() is not None
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        finally:
            conn.rollback()
