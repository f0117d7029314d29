"""Fewer writes per recorded command: no principal index on outbox.commands, live keys without ON CONFLICT.

Revision ID: 0019_outbox_accept_writes
Revises: 0018_outbox_live_keys_no_fk
Create Date: 2026-12-06

A transfer accept wrote 27 WAL records (pg_waldump over 250 accepts): 16 B-tree leaf inserts,
5 heap inserts and 5 HEAP_CONFIRM records, because every insert of the statement was speculative
(ON CONFLICT). Two of those writes bought nothing:

- `commands_principal_idx (principal_id, created_at DESC)`: no query filters or orders
  `outbox.commands` by its principal (operations are read by id, by request id, by status, by
  type and seq; the owner check reads the row found by id). It cost a leaf insert per recorded
  command and another per non-HOT update (claim, store, record: three per command).
- `live_keys_add` inserted the keys with ON CONFLICT DO NOTHING: a speculative insertion per key
  (a unique-index probe first, a HEAP_CONFIRM record after). A conflict cannot happen: a row's
  keys are (key, NEW.seq), `seq` is unique (commands_seq_key, checked before AFTER triggers run),
  and DISTINCT drops a key listed twice in one command's array. Three keys per transfer: three
  probes and three WAL records fewer.

Downgrade puts both back.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019_outbox_accept_writes"
down_revision: str | None = "0018_outbox_live_keys_no_fk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ADD_KEYS = """
    CREATE OR REPLACE FUNCTION outbox.live_keys_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.status IN ('PENDING', 'SUBMITTED') THEN
            INSERT INTO outbox.live_keys (key, seq, command_id, exclusive)
            SELECT {distinct}k, NEW.seq, NEW.id, k = ANY (NEW.exclusive_keys) FROM unnest(NEW.order_keys) AS k{tail};
        END IF;
        RETURN NULL;
    END $$
    """


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS outbox.commands_principal_idx")
    op.execute(_ADD_KEYS.format(distinct="DISTINCT ", tail=""))


def downgrade() -> None:
    op.execute(_ADD_KEYS.format(distinct="", tail="\n            ON CONFLICT DO NOTHING"))
    op.execute(
        "CREATE INDEX IF NOT EXISTS commands_principal_idx ON outbox.commands (principal_id, created_at DESC)"
    )
