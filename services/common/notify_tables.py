"""The `notify` schema as SQLAlchemy Core tables: the one outgoing-message queue (migration 0013 creates it)."""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

SCHEMA: Final = "notify"
# Channels a row may name; each has a transport in the notifier (notifier/transports.py).
CHANNELS: Final = ("email", "webhook")
# PENDING: waiting or being sent (a claim is a lease: next_attempt_at pushed ahead, attempts+1);
# SENT: the transport accepted it; FAILED: given up (permanent error or older than the channel's
# max age); SKIPPED: nothing to send (the user switched this kind off, or has no address).
STATUSES: Final = ("PENDING", "SENT", "FAILED", "SKIPPED")

metadata = MetaData(schema=SCHEMA)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("channel", Text, nullable=False),
    # Recording the same notification twice (a replayed event, a retried request) is a no-op.
    Column("dedupe_key", Text, nullable=False, unique=True),
    # email: the address, when known at enqueue time; webhook: the endpoint (helper H's transport).
    Column("destination", Text),
    # email: whose address (and preference) is read at send time, so a changed address or a
    # switched-off preference is honoured for mail still queued.
    Column("to_user_id", UUID(as_uuid=True)),
    # email: the template name (notifier/templates/<name>.txt|.html); webhook: the event type.
    Column("template", Text, nullable=False),
    # email: the template's context; webhook: the event body.
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", Text, nullable=False, server_default=text("'PENDING'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("last_error", Text),
    Column("last_response", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("sent_at", DateTime(timezone=True)),
    CheckConstraint(_in("channel", CHANNELS), name="messages_channel_check"),
    CheckConstraint(_in("status", STATUSES), name="messages_status_check"),
    CheckConstraint("destination IS NOT NULL OR to_user_id IS NOT NULL", name="messages_recipient_check"),
    # The claim's scan: only rows still to send, oldest due first.
    Index("messages_due_idx", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
)

# Webhooks (migration 0015): an endpoint's delivery log is its `webhook` messages, newest first
# (licensing's ListWebhookDeliveries, keyset on created_at, id), and giving up an endpoint's
# waiting messages finds them by destination.
Index(
    "messages_webhook_destination_idx",
    messages.c.destination,
    messages.c.created_at,
    messages.c.id,
    postgresql_where=text("channel = 'webhook'"),
)
