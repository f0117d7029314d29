"""Migration 0016 moves identity's audit rows into the mesh-wide trail, and back on downgrade."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from services.common import migrate
from tests.support.stack import PostgresHandle


@pytest.fixture
def url(postgres: PostgresHandle) -> Iterator[str]:
    created = postgres.create_database(f"audit_mig_{uuid.uuid4().hex[:8]}")
    try:
        yield created
    finally:
        postgres.drop_database(created)


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_identity_rows_move_into_the_trail_and_back(url: str) -> None:
    migrate.upgrade(url, "0015_partner_webhooks")
    actor, subject, event = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(_plain(url)) as conn:
        conn.execute(
            "INSERT INTO identity.audit_events (id, actor_user_id, subject_user_id, action, detail, created_at)"
            " VALUES (%s, %s, %s, 'USER_FROZEN', '{\"reason\": \"r\"}', now())",
            (event, actor, subject),
        )
    migrate.upgrade(url)
    with psycopg.connect(_plain(url)) as conn:
        row = conn.execute(
            "SELECT service, action, actor, subject, details FROM audit.events WHERE id = %s", (event,)
        ).fetchone()
        assert row == ("identity", "USER_FROZEN", str(actor), f"users/{subject}", {"reason": "r"})
        assert conn.execute("SELECT to_regclass('identity.audit_events')").fetchone() == (None,)

    command.downgrade(migrate.alembic_config(url), "0015_partner_webhooks")
    with psycopg.connect(_plain(url)) as conn:
        back = conn.execute(
            "SELECT actor_user_id, subject_user_id, action, detail FROM identity.audit_events WHERE id = %s",
            (event,),
        ).fetchone()
        assert back == (actor, subject, "USER_FROZEN", {"reason": "r"})
        assert conn.execute("SELECT to_regnamespace('audit')").fetchone() == (None,)
