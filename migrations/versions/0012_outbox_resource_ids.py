"""outbox: the public id ↔ ledger id map (resource_ids), archived commands, the operations view.

Revision ID: 0012_outbox_resource_ids
Revises: 0011_process_roles
Create Date: 2026-12-06

`outbox.commands` did four jobs (job queue, operation store, id map, lag source), so no old command
could ever leave it without breaking organisation and loan lookups. Now:

- `outbox.resource_ids` maps each created resource's public id (the creating operation's id) to
  its ledger id (the command's request id); `record_command` writes it in the statement that records
  the command; filled here from the existing commands. It is never archived.
- `outbox.archived_commands` holds finished (and projected) commands the outbox's retention worker
  moved out of the queue, with everything their operation shows and their payload (the request id
  stays taken; an operator can still read what was asked).
- the view `outbox.operations` (commands UNION ALL archived_commands) is where operations are read.
- `outbox.retries` loses its foreign keys to `commands`: a retry link outlives the queue rows.

Grants (0011's roles): every service INSERTs into and reads the map, and reads the archive and the
view (GetOperation; a replayed request id); the outbox worker archives (its schema-wide DML, by
0011's default privileges, which also give gx_reader SELECT on the new tables and the view).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_outbox_resource_ids"
down_revision: str | None = "0011_process_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERVICES = ("gx_identity", "gx_wallet", "gx_licensing")

# The commands that create a resource at this revision, from their `(gx.ledger.v1.command).creates`
# option: a snapshot for the backfill (a migration must not change with later protos).
_CREATES = (
    ("PROPOSE_ORGANIZATION", "ORGANIZATION"),
    ("PROPOSE_GOVERNMENT_ORGANIZATION", "ORGANIZATION"),
    ("DEFINE_AUTH_RULE", "MULTISIG_TX"),
    ("REMOVE_AUTH_RULE", "MULTISIG_TX"),
    ("INITIATE_MULTISIG_TX", "MULTISIG_TX"),
    ("APPLY_FOR_LOAN", "LOAN"),
    ("SUBMIT_PROPOSAL", "PROPOSAL"),
)

_OPERATION_COLUMNS = (
    "id, tenant, command_type, payload, request_id, principal_id, status, tx_id, block_number,"
    " error_code, error_message, result_json, created_at, updated_at"
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE outbox.resource_ids (
            public_id    uuid        PRIMARY KEY,
            tenant       text        NOT NULL DEFAULT 'gx',
            ledger_id    text        NOT NULL,
            kind         text        NOT NULL,
            command_type text        NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT resource_ids_tenant_ledger_id_key UNIQUE (tenant, ledger_id)
        )
        """
    )
    # The ledger id is the payload's request id (`requestId` in its proto JSON; the outbox row's
    # own request_id equals it for every command but an operator retry, which repeats the
    # original's payload under a new outbox request id and creates no second public id).
    values = ", ".join(f"('{command}', '{kind}')" for command, kind in _CREATES)
    op.execute(
        f"""
        INSERT INTO outbox.resource_ids (public_id, tenant, ledger_id, kind, command_type, created_at)
        SELECT c.id, c.tenant, COALESCE(c.payload->>'requestId', c.request_id), k.kind, c.command_type, c.created_at
          FROM outbox.commands c JOIN (VALUES {values}) AS k (command_type, kind) USING (command_type)
         WHERE NOT EXISTS (SELECT 1 FROM outbox.retries r WHERE r.command_id = c.id)
         ORDER BY c.seq
        ON CONFLICT DO NOTHING
        """
    )
    op.execute(
        """
        CREATE TABLE outbox.archived_commands (
            id              uuid        PRIMARY KEY,
            tenant          text        NOT NULL,
            command_type    text        NOT NULL,
            payload         jsonb       NOT NULL,
            request_id      text        NOT NULL,
            principal_id    text,
            status          text        NOT NULL,
            attempts        integer     NOT NULL,
            tx_id           text,
            block_number    bigint,
            validation_code text,
            error_code      text,
            error_message   text,
            result_json     text,
            traceparent     text,
            created_at      timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL,
            archived_at     timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT archived_commands_tenant_request_id_key UNIQUE (tenant, request_id),
            CONSTRAINT archived_commands_status_check CHECK (status IN ('COMMITTED', 'FAILED'))
        )
        """
    )
    op.execute(
        "CREATE INDEX archived_commands_principal_idx ON outbox.archived_commands (principal_id, created_at DESC)"
    )
    # The retention worker's scan (oldest finish first); partial, so the live queue never pays for it.
    op.execute(
        "CREATE INDEX commands_finished_idx ON outbox.commands (updated_at)"
        " WHERE status IN ('COMMITTED', 'FAILED')"
    )
    op.execute(
        f"""
        CREATE VIEW outbox.operations AS
        SELECT {_OPERATION_COLUMNS}, false AS archived FROM outbox.commands
        UNION ALL
        SELECT {_OPERATION_COLUMNS}, true AS archived FROM outbox.archived_commands
        """
    )
    op.execute("ALTER TABLE outbox.retries DROP CONSTRAINT IF EXISTS retries_command_id_fkey")
    op.execute("ALTER TABLE outbox.retries DROP CONSTRAINT IF EXISTS retries_retry_of_fkey")
    services = ", ".join(_SERVICES)
    op.execute(f"GRANT SELECT, INSERT ON TABLE outbox.resource_ids TO {services}")
    op.execute(f"GRANT SELECT ON TABLE outbox.archived_commands, outbox.operations TO {services}")
    # The projector reads commands for traces only; it never needs these.


def downgrade() -> None:
    # Archived commands go back to the queue (as finished rows) so no operation is lost.
    op.execute(
        """
        INSERT INTO outbox.commands (id, tenant, command_type, payload, request_id, principal_id, status, attempts,
                                     tx_id, block_number, validation_code, error_code, error_message, result_json,
                                     traceparent, created_at, updated_at)
        SELECT id, tenant, command_type, payload, request_id, principal_id, status, attempts, tx_id, block_number,
               validation_code, error_code, error_message, result_json, traceparent, created_at, updated_at
          FROM outbox.archived_commands
        ON CONFLICT DO NOTHING
        """
    )
    op.execute(
        "DELETE FROM outbox.retries r WHERE NOT EXISTS (SELECT 1 FROM outbox.commands c WHERE c.id = r.command_id)"
        " OR NOT EXISTS (SELECT 1 FROM outbox.commands c WHERE c.id = r.retry_of)"
    )
    op.execute(
        "ALTER TABLE outbox.retries ADD CONSTRAINT retries_command_id_fkey"
        " FOREIGN KEY (command_id) REFERENCES outbox.commands (id)"
    )
    op.execute(
        "ALTER TABLE outbox.retries ADD CONSTRAINT retries_retry_of_fkey"
        " FOREIGN KEY (retry_of) REFERENCES outbox.commands (id)"
    )
    op.execute("DROP VIEW IF EXISTS outbox.operations")
    op.execute("DROP INDEX IF EXISTS outbox.commands_finished_idx")
    op.execute("DROP TABLE IF EXISTS outbox.archived_commands")
    op.execute("DROP TABLE IF EXISTS outbox.resource_ids")
