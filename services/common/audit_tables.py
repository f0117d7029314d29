"""The `audit` schema: one append-only trail of administrative actions for the whole mesh.

Written only by `services.common.audit.record_audit`, in the transaction of the action it
records; read by identity's ListAuditEvents. Migration 0016 creates it and grants the service
roles INSERT and SELECT only, so no process can rewrite or remove history.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, MetaData, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

SCHEMA = "audit"

metadata = MetaData(schema=SCHEMA)

# One administrative action: who (actor, address), did what (action) to what (subject), when,
# under which request and trace. Every list filter pages by (create_time, id), newest first.
events = Table(
    "events",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("create_time", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    # The process that recorded it: identity, wallet, licensing.
    Column("service", Text, nullable=False),
    # `<service>.<Verb>` for RPCs (`wallet.FreezeWallet`); identity keeps its older names
    # (`KYC_APPROVED`, `ROLE_ADDED`).
    Column("action", Text, nullable=False),
    # The caller's user id (a partner's principal id for partner calls); NULL for the system
    # or an anonymous caller (a password reset by mail).
    Column("actor", Text),
    # The resource acted on, as a resource name: `users/<id>`, `wallets/<id>`, `partners/<id>`.
    Column("subject", Text, nullable=False),
    # The client's address through trusted proxies only (services.common.client_address).
    Column("address", Text),
    Column("request_id", Text),
    Column("trace_id", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("events_time_idx", "create_time", "id"),
    Index("events_actor_idx", "actor", "create_time", "id"),
    Index("events_subject_idx", "subject", "create_time", "id"),
    Index("events_action_idx", "action", "create_time", "id"),
)
