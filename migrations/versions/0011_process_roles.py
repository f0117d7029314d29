"""Least-privilege roles, one NOLOGIN group role per process; the migrating role stays the only owner (DDL).

Revision ID: 0011_process_roles
Revises: 0010_outbox_traceparent
Create Date: 2026-12-06

Each process logs in as its own LOGIN user that is a member of one group role below (the dev stack
creates them, see devstack/postgres.py; production's are made by the operator, manifests/README).
The role that runs migrations owns every object, so it alone can change the schema; the grants:

- a service (identity, licensing) writes only its own schema;
- every service (wallet too) records ledger commands: INSERT into outbox.commands with the
  sequence behind its `seq` default, the `commands_live_keys_add` trigger's INSERT into
  outbox.live_keys (the trigger runs as the inserting role), and its idempotency records in
  platform (SELECT/INSERT/UPDATE for the upsert, DELETE for the purge); it reads ledger.* and
  outbox.commands (read models, operations);
- the outbox worker alone updates outbox.* (claims, retries, status, the live-keys trigger's DELETE);
- the projector alone writes ledger.* (TRUNCATE for `rebuild`); it reads outbox.commands (traces);
- gx_reader reads ledger.* and outbox.* (dashboards, support queries).

Default privileges (for objects the migrating role creates later) give new tables and sequences
the same grants, so a later migration needs no GRANT of its own. Roles are cluster-wide and may
already exist (another database of the cluster, a second run): each is created in a DO block that
tolerates that, also when two databases migrate at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_process_roles"
down_revision: str | None = "0010_outbox_traceparent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERVICES = ("gx_identity", "gx_wallet", "gx_licensing")
ROLES = (*SERVICES, "gx_outbox", "gx_projector", "gx_reader")
_DML = "SELECT, INSERT, UPDATE, DELETE"

# (schema, role, table privileges, sequence privileges): applied to what exists now and, as default
# privileges, to what the migrating role creates in that schema later.
_SCHEMA_GRANTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("identity", "gx_identity", _DML, "USAGE, SELECT"),
    ("licensing", "gx_licensing", _DML, "USAGE, SELECT"),
    *((("ledger", role, "SELECT", None)) for role in (*SERVICES, "gx_outbox", "gx_reader")),
    ("ledger", "gx_projector", f"{_DML}, TRUNCATE", "USAGE, SELECT, UPDATE"),
    ("outbox", "gx_outbox", _DML, "USAGE, SELECT"),
    ("outbox", "gx_reader", "SELECT", None),
    ("platform", "gx_outbox", _DML, "USAGE, SELECT"),
)

# Single tables a role needs outside its schema-wide grants.
_TABLE_GRANTS: tuple[tuple[str, str, str], ...] = (
    *(("outbox.commands", role, "SELECT, INSERT") for role in SERVICES),
    *(("outbox.live_keys", role, "INSERT") for role in SERVICES),
    *(("platform.idempotency_records", role, _DML) for role in SERVICES),
    ("outbox.commands", "gx_projector", "SELECT"),
)
_SEQUENCE_GRANTS: tuple[tuple[str, str, str], ...] = tuple(
    ("outbox.commands_seq_seq", role, "USAGE") for role in SERVICES
)


def _schema_usage() -> dict[str, set[str]]:
    usage: dict[str, set[str]] = {}
    for schema, role, _t, _s in _SCHEMA_GRANTS:
        usage.setdefault(schema, set()).add(role)
    for name, role, _p in (*_TABLE_GRANTS, *_SEQUENCE_GRANTS):
        usage.setdefault(name.split(".")[0], set()).add(role)
    return usage


def upgrade() -> None:
    for role in ROLES:
        # duplicate_object: the role exists; unique_violation: another session created it meanwhile.
        op.execute(
            f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN;"
            f" EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    for schema, roles in sorted(_schema_usage().items()):
        op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {', '.join(sorted(roles))}")
    for schema, role, tables, sequences in _SCHEMA_GRANTS:
        op.execute(f"GRANT {tables} ON ALL TABLES IN SCHEMA {schema} TO {role}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {tables} ON TABLES TO {role}")
        if sequences:
            op.execute(f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
            op.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {sequences} ON SEQUENCES TO {role}"
            )
    for table, role, privileges in _TABLE_GRANTS:
        op.execute(f"GRANT {privileges} ON TABLE {table} TO {role}")
    for sequence, role, privileges in _SEQUENCE_GRANTS:
        op.execute(f"GRANT {privileges} ON SEQUENCE {sequence} TO {role}")


def downgrade() -> None:
    # The roles stay: they are cluster-wide and other databases of the cluster may use them.
    for schema, role, tables, sequences in _SCHEMA_GRANTS:
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE {tables} ON TABLES FROM {role}")
        if sequences:
            op.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE {sequences} ON SEQUENCES FROM {role}"
            )
    for schema, roles in sorted(_schema_usage().items()):
        for role in sorted(roles):
            op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
            op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}")
        op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {', '.join(sorted(roles))}")
