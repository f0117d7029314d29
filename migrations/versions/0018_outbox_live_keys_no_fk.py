"""outbox.live_keys without its foreign key: a live command's keys go with it by a trigger instead.

Revision ID: 0018_outbox_live_keys_no_fk
Revises: 0017_outbox_acting_partner
Create Date: 2026-12-06

Every ordering key of every recorded command (about three per transfer) went into `live_keys`
through the foreign key `live_keys.command_id -> commands.id`, and PostgreSQL checked each one
with a referential-integrity query (`SELECT 1 ... FOR KEY SHARE` on the command): on the transfer
accept's one statement that was about 0.025 ms of the backend's 0.19 ms (13%). The check proves
nothing the schema does not already: the only writer of `live_keys` is 0007's trigger, which
copies the keys from the command row it was fired for, in the same statement.

What the key still gave, the cascade (a deleted command takes its keys with it, so a key cannot
outlive its command and block later ones forever), is kept by `commands_live_keys_drop`: AFTER
DELETE, only for a command still live (a finished one has no keys left: 0007's remove trigger
dropped them when it finished; so the retention worker's deletes of finished commands do not fire
it at all). It is SECURITY DEFINER as the cascade ran with the owner's rights: a role allowed to
delete commands need not be allowed to delete keys.

Downgrade drops the trigger and puts the foreign key back (NOT VALID first, then validated).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018_outbox_live_keys_no_fk"
down_revision: str | None = "0017_outbox_acting_partner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "('PENDING', 'SUBMITTED')"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION outbox.live_keys_drop() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            DELETE FROM outbox.live_keys WHERE command_id = OLD.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION outbox.live_keys_drop() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER commands_live_keys_drop AFTER DELETE ON outbox.commands FOR EACH ROW"
        f" WHEN (OLD.status IN {_LIVE}) EXECUTE FUNCTION outbox.live_keys_drop()"
    )
    op.execute("ALTER TABLE outbox.live_keys DROP CONSTRAINT live_keys_command_id_fkey")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE outbox.live_keys ADD CONSTRAINT live_keys_command_id_fkey FOREIGN KEY (command_id)"
        " REFERENCES outbox.commands (id) ON DELETE CASCADE NOT VALID"
    )
    op.execute("ALTER TABLE outbox.live_keys VALIDATE CONSTRAINT live_keys_command_id_fkey")
    op.execute("DROP TRIGGER IF EXISTS commands_live_keys_drop ON outbox.commands")
    op.execute("DROP FUNCTION IF EXISTS outbox.live_keys_drop()")
