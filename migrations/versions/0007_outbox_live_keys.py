"""outbox.live_keys: the ordering keys of unfinished commands, one row per key, for a claim in O(log n).

Revision ID: 0007_outbox_live_keys
Revises: 0006_licensing
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_outbox_live_keys"
down_revision: str | None = "0006_licensing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 0005's GIN indexes answer "does a live command share a key with me" but not "an EARLIER
    # one": every live holder of a hot key comes back and is filtered by seq, so a sender with
    # 2,000 queued transfers made each claim quadratic (22 s measured). One row per (key, seq)
    # of an unfinished command turns "an earlier conflicting holder" into one B-tree probe.
    op.execute("DROP INDEX IF EXISTS outbox.commands_live_order_keys_idx")
    op.execute("DROP INDEX IF EXISTS outbox.commands_live_exclusive_keys_idx")
    op.execute(
        """
        CREATE TABLE outbox.live_keys (
            key        text    NOT NULL,
            seq        bigint  NOT NULL,
            command_id uuid    NOT NULL REFERENCES outbox.commands (id) ON DELETE CASCADE,
            exclusive  boolean NOT NULL,
            PRIMARY KEY (key, seq)
        )
        """
    )
    # A shared holder waits only for earlier EXCLUSIVE holders: this index finds them without
    # walking past every earlier shared credit to a hot merchant.
    op.execute("CREATE INDEX live_keys_exclusive_idx ON outbox.live_keys (key, seq) WHERE exclusive")
    op.execute("CREATE INDEX live_keys_command_idx ON outbox.live_keys (command_id)")
    # Maintained by triggers from the command row itself, so no path (record_command, an
    # operator retry, a cancel, a worker's outcome, a test's UPDATE) can leave the live key
    # set disagreeing with the status: keys are added when a command is recorded and removed
    # in the same transaction that makes it COMMITTED or FAILED.
    op.execute(
        """
        CREATE FUNCTION outbox.live_keys_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status IN ('PENDING', 'SUBMITTED') THEN
                INSERT INTO outbox.live_keys (key, seq, command_id, exclusive)
                SELECT k, NEW.seq, NEW.id, k = ANY (NEW.exclusive_keys) FROM unnest(NEW.order_keys) AS k
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION outbox.live_keys_remove() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM outbox.live_keys WHERE command_id = NEW.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER commands_live_keys_add AFTER INSERT ON outbox.commands"
        " FOR EACH ROW EXECUTE FUNCTION outbox.live_keys_add()"
    )
    op.execute(
        "CREATE TRIGGER commands_live_keys_remove AFTER UPDATE OF status ON outbox.commands FOR EACH ROW"
        " WHEN (NEW.status NOT IN ('PENDING', 'SUBMITTED') AND OLD.status IN ('PENDING', 'SUBMITTED'))"
        " EXECUTE FUNCTION outbox.live_keys_remove()"
    )
    op.execute(
        "INSERT INTO outbox.live_keys (key, seq, command_id, exclusive)"
        " SELECT k, c.seq, c.id, k = ANY (c.exclusive_keys) FROM outbox.commands c, unnest(c.order_keys) AS k"
        " WHERE c.status IN ('PENDING', 'SUBMITTED') ON CONFLICT DO NOTHING"
    )
    # The claim takes due rows in this order and stops at its LIMIT: the index must give that
    # order itself (next_attempt_at alone ties for a whole batch recorded in one transaction).
    op.execute("DROP INDEX IF EXISTS outbox.commands_due_idx")
    op.execute(
        "CREATE INDEX commands_due_idx ON outbox.commands (next_attempt_at, seq) WHERE status IN ('PENDING', 'SUBMITTED')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS outbox.commands_due_idx")
    op.execute(
        "CREATE INDEX commands_due_idx ON outbox.commands (next_attempt_at, created_at)"
        " WHERE status IN ('PENDING', 'SUBMITTED')"
    )
    op.execute("DROP TRIGGER IF EXISTS commands_live_keys_remove ON outbox.commands")
    op.execute("DROP TRIGGER IF EXISTS commands_live_keys_add ON outbox.commands")
    op.execute("DROP FUNCTION IF EXISTS outbox.live_keys_remove()")
    op.execute("DROP FUNCTION IF EXISTS outbox.live_keys_add()")
    op.execute("DROP TABLE IF EXISTS outbox.live_keys")
    op.execute(
        "CREATE INDEX commands_live_order_keys_idx ON outbox.commands USING gin (order_keys)"
        " WHERE status IN ('PENDING', 'SUBMITTED')"
    )
    op.execute(
        "CREATE INDEX commands_live_exclusive_keys_idx ON outbox.commands USING gin (exclusive_keys)"
        " WHERE status IN ('PENDING', 'SUBMITTED')"
    )
