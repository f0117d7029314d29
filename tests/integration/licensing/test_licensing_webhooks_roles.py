"""Webhook privileges under the per-process roles (migrations 0011, 0013, 0015), on real PostgreSQL.

The outbox's own user finishing a partner's command records the event and its delivery through
the SECURITY DEFINER trigger, though that user can write neither table itself; the notifier reads
just the endpoint columns it sends with; licensing may give up a message but not rewrite it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.roles import grants_database, run_as
from tests.support.stack import PostgresHandle


@pytest.fixture(scope="module")
def libpq_url(postgres: PostgresHandle) -> Iterator[str]:
    with grants_database(postgres, "webhook_roles") as url:
        yield url


def _partner_with_endpoint(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    partner, endpoint = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO licensing.partners (id, name, email, contact_person, state, created_at, updated_at)"
            " VALUES (%s, 'Acme', %s, 'A', 'ACTIVE', now(), now())",
            (partner, f"{partner.hex[:8]}@acme.example"),
        )
        conn.execute(
            "INSERT INTO licensing.webhook_endpoints (id, partner_id, url, event_types, state, secret, secret_prefix,"
            " created_at, updated_at) VALUES (%s, %s, 'https://hooks.example/x', %s, 'ENABLED', 'whsec_s', 'whsec_s',"
            " now(), now())",
            (endpoint, partner, ["operation.committed"]),
        )
    return partner, endpoint


def _as(
    url: str, process: str, sql: str, params: tuple[object, ...] = (), *, commit: bool = False
) -> list[tuple[object, ...]]:
    return run_as(url, process, sql, params, commit=commit).rows


def test_the_outbox_user_finishing_a_partner_command_records_event_and_delivery(libpq_url: str) -> None:
    partner, endpoint = _partner_with_endpoint(libpq_url)
    command = uuid.uuid4()
    with psycopg.connect(libpq_url) as conn:
        conn.execute(
            "INSERT INTO outbox.commands (id, command_type, payload, request_id, principal_id)"
            " VALUES (%s, 'TRANSFER_TOKENS', '{}', %s, %s)",
            (command, str(uuid.uuid4()), f"partner:{partner}"),
        )
    _as(
        libpq_url,
        "outbox",
        "UPDATE outbox.commands SET status = 'COMMITTED' WHERE id = %s",
        (command,),
        commit=True,
    )
    with psycopg.connect(libpq_url) as conn:
        [(event_id, event_type)] = conn.execute(
            "SELECT id, event_type FROM licensing.webhook_events WHERE operation_id = %s", (command,)
        ).fetchall()
        [(destination, payload)] = conn.execute(
            "SELECT destination, payload FROM notify.messages WHERE channel = 'webhook' AND payload->>'event_id' = %s",
            (str(event_id),),
        ).fetchall()
    assert event_type == "operation.committed"
    assert (destination, payload["endpoint_id"]) == (str(endpoint), str(endpoint))
    # The outbox user itself may not write either table.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as(libpq_url, "outbox", "DELETE FROM licensing.webhook_events")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as(libpq_url, "outbox", "SELECT secret FROM licensing.webhook_endpoints")


def test_the_notifier_reads_only_what_it_sends_with(libpq_url: str) -> None:
    _, endpoint = _partner_with_endpoint(libpq_url)
    [(url, state, secret, _previous, _until)] = _as(
        libpq_url,
        "notifier",
        "SELECT url, state, secret, previous_secret, previous_secret_expire_at FROM licensing.webhook_endpoints"
        " WHERE id = %s",
        (endpoint,),
    )
    assert (url, state, secret) == ("https://hooks.example/x", "ENABLED", "whsec_s")
    _as(libpq_url, "notifier", "SELECT id, operation FROM licensing.webhook_events")
    for sql in (
        "SELECT description FROM licensing.webhook_endpoints",
        "UPDATE licensing.webhook_endpoints SET state = 'DISABLED'",
        "SELECT * FROM licensing.partners",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _as(libpq_url, "notifier", sql)


def test_licensing_may_give_up_a_message_but_not_rewrite_it_and_others_see_no_secret(libpq_url: str) -> None:
    _as(
        libpq_url,
        "licensing",
        "UPDATE notify.messages SET status = 'FAILED', last_error = 'x', updated_at = now()",
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as(libpq_url, "licensing", "UPDATE notify.messages SET payload = '{}'")
    for process in ("wallet", "identity", "projector"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _as(libpq_url, process, "SELECT secret FROM licensing.webhook_endpoints")
