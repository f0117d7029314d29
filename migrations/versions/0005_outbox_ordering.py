"""outbox.commands: recording order (seq), ordering keys by lock mode, and a prerequisite (depends_on).

Revision ID: 0005_outbox_ordering
Revises: 0004_velocity_timer
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_outbox_ordering"
down_revision: str | None = "0004_velocity_timer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The recording order. created_at is the recording TRANSACTION's start, equal for every
    # command of one transaction and not monotonic across sessions; a sequence value is taken
    # at insert, so a command recorded after another one committed always has a larger seq.
    op.execute("CREATE SEQUENCE outbox.commands_seq_seq AS bigint")
    op.execute("ALTER TABLE outbox.commands ADD COLUMN seq bigint")
    op.execute(
        "UPDATE outbox.commands c SET seq = o.n FROM"
        " (SELECT id, nextval('outbox.commands_seq_seq') AS n FROM"
        "   (SELECT id FROM outbox.commands ORDER BY created_at, id) ordered) o"
        " WHERE o.id = c.id"
    )
    op.execute("ALTER TABLE outbox.commands ALTER COLUMN seq SET DEFAULT nextval('outbox.commands_seq_seq')")
    op.execute("ALTER TABLE outbox.commands ALTER COLUMN seq SET NOT NULL")
    op.execute("ALTER SEQUENCE outbox.commands_seq_seq OWNED BY outbox.commands.seq")
    op.execute("CREATE UNIQUE INDEX commands_seq_key ON outbox.commands (seq)")
    # Every key the command holds, and the subset it holds EXCLUSIVE (services/common/ordering.py).
    # Rows recorded before this revision hold none: they are not ordered, as before.
    op.execute("ALTER TABLE outbox.commands ADD COLUMN order_keys text[] NOT NULL DEFAULT '{}'")
    op.execute("ALTER TABLE outbox.commands ADD COLUMN exclusive_keys text[] NOT NULL DEFAULT '{}'")
    # A prerequisite recorded but not yet committed when a service accepted this command; if
    # it fails, this command fails PREREQUISITE_FAILED instead of being submitted.
    op.execute("ALTER TABLE outbox.commands ADD COLUMN depends_on uuid REFERENCES outbox.commands (id)")
    # A finishing command wakes the workers when a dependent waits for it (outbox/repository.py).
    op.execute(
        "CREATE INDEX commands_depends_on_idx ON outbox.commands (depends_on) WHERE depends_on IS NOT NULL"
    )
    # The claim query asks, per candidate, whether an earlier LIVE command holds one of its keys
    # in a conflicting mode: `live.exclusive_keys && mine.order_keys OR live.order_keys &&
    # mine.exclusive_keys`. GIN answers `&&` per key, and the partial predicate keeps both
    # indexes as small as the live queue however many finished commands accumulate.
    op.execute(
        "CREATE INDEX commands_live_order_keys_idx ON outbox.commands USING gin (order_keys)"
        " WHERE status IN ('PENDING', 'SUBMITTED')"
    )
    op.execute(
        "CREATE INDEX commands_live_exclusive_keys_idx ON outbox.commands USING gin (exclusive_keys)"
        " WHERE status IN ('PENDING', 'SUBMITTED')"
    )
    # Pre-checks look for the latest command of a type (an in-flight bootstrap, say).
    op.execute("CREATE INDEX commands_type_seq_idx ON outbox.commands (command_type, seq DESC)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS outbox.commands_type_seq_idx")
    op.execute("DROP INDEX IF EXISTS outbox.commands_live_exclusive_keys_idx")
    op.execute("DROP INDEX IF EXISTS outbox.commands_live_order_keys_idx")
    op.execute("DROP INDEX IF EXISTS outbox.commands_depends_on_idx")
    op.execute("ALTER TABLE outbox.commands DROP COLUMN IF EXISTS depends_on")
    op.execute("ALTER TABLE outbox.commands DROP COLUMN IF EXISTS exclusive_keys")
    op.execute("ALTER TABLE outbox.commands DROP COLUMN IF EXISTS order_keys")
    op.execute("ALTER TABLE outbox.commands DROP COLUMN IF EXISTS seq")
