"""Least privilege around notify.messages (migration 0013), on real PostgreSQL as each process's own user.

Services and the projector record messages but cannot change one; the notifier changes them and
reads only the identity columns it addresses mail with; nobody else's tables are the notifier's.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.support.roles import grants_database, run_as
from tests.support.stack import PostgresHandle

_INSERT = (
    "INSERT INTO notify.messages (id, channel, dedupe_key, destination, template)"
    " VALUES (gen_random_uuid(), 'email', gen_random_uuid()::text, 'a@b.c', 't')"
)
_UPDATE = "UPDATE notify.messages SET attempts = attempts + 1"


@pytest.fixture(scope="module")
def libpq_url(postgres: PostgresHandle) -> Iterator[str]:
    with grants_database(postgres, "notify_roles") as url:
        yield url


@pytest.mark.parametrize("process", ["identity", "wallet", "licensing", "projector"])
def test_services_and_the_projector_record_messages(libpq_url: str, process: str) -> None:
    run_as(libpq_url, process, _INSERT)
    run_as(libpq_url, process, "SELECT id FROM notify.messages")


@pytest.mark.parametrize("process", ["identity", "wallet", "projector", "outbox"])
def test_only_the_notifier_changes_a_message(libpq_url: str, process: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(libpq_url, process, _UPDATE)


def test_the_notifier_claims_and_finishes_messages(libpq_url: str) -> None:
    run_as(libpq_url, "notifier", _INSERT)
    run_as(libpq_url, "notifier", _UPDATE)


def test_the_notifier_reads_only_the_identity_columns_it_addresses_mail_with(libpq_url: str) -> None:
    run_as(libpq_url, "notifier", "SELECT id, email, money_emails FROM identity.users")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(libpq_url, "notifier", "SELECT password_hash FROM identity.users")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE identity.users SET money_emails = false",
        "UPDATE ledger.wallets SET balance_qirat = balance_qirat",
        "UPDATE outbox.commands SET status = status",
        "CREATE TABLE notify.intruder (id int)",
    ],
)
def test_the_notifier_writes_nothing_else(libpq_url: str, sql: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(libpq_url, "notifier", sql)
