"""Each process's own PostgreSQL user (migration 0011's roles) in tests: URLs, a grants database, a statement as one.

Tests that prove a grant run as the process's real LOGIN user over a real connection, so a
missing grant and a grant that should not exist both fail them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from devstack.postgres import ensure_process_users, process_url
from services.common import migrate
from services.common.db import libpq_dsn
from tests.support.stack import PostgresHandle


def as_process(url: str, process: str) -> str:
    """`url` (a superuser's, either form) as `process`'s own LOGIN user, created if missing; same form."""
    ensure_process_users(libpq_dsn(url), (process,))
    return process_url(url, process)


@contextlib.contextmanager
def grants_database(postgres: PostgresHandle, name: str) -> Iterator[str]:
    """A fresh database at the head migration with every process's user; its superuser libpq URL.

    The database is dropped at the end.
    """
    url = postgres.create_database(name)
    try:
        migrate.upgrade(url)
        plain = libpq_dsn(url)
        ensure_process_users(plain)
        yield plain
    finally:
        postgres.drop_database(url)


@dataclass(frozen=True)
class Ran:
    """What one statement did.

    Attributes:
        rowcount: The rows it touched (or returned).
        rows: The rows it returned, if it returns any.
    """

    rowcount: int
    rows: list[tuple[Any, ...]]


def run_as(url: str, process: str, sql: str, params: tuple[object, ...] = (), *, commit: bool = False) -> Ran:
    """Run `sql` as `process`'s own user, in a transaction rolled back unless `commit`.

    Raises:
        psycopg.errors.InsufficientPrivilege: the process's grants do not allow it.
    """
    with psycopg.connect(process_url(url, process), connect_timeout=5) as conn:
        try:
            cursor = conn.execute(sql, params)
            ran = Ran(cursor.rowcount, cursor.fetchall() if cursor.description else [])
            if commit:
                conn.commit()
            return ran
        finally:
            conn.rollback()
