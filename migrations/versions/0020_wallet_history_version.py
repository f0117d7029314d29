"""A version per wallet history, taken in the transaction of every change to that history.

Revision ID: 0020_wallet_history_version
Revises: 0019_outbox_accept_writes
Create Date: 2026-12-06

`ledger.wallet_history_versions` holds one row per wallet that has entries: a value of the sequence
`ledger.history_versions`, taken again by statement triggers on `ledger.transactions` in the same
transaction as any INSERT, UPDATE or DELETE of that wallet's entries (every wallet's on a TRUNCATE
of the entries). A sequence never hands out a value twice, not even across a rebuild (it empties
the read models with RESTART IDENTITY, which restarts only the sequences their columns own), so
two reads that see the same version see the same history: the wallet keeps a page it built and
answers it again while the version read with the owner check is unchanged
(services/wallet/history_pages.py). A wallet with no row has had no entry since this migration
(which gives every wallet with entries a row).

A table of its own, not a column of `ledger.wallets`: the wallet row stays what the chain decides
(two projections of one chain give equal rows, and an error that quotes a wallet row quotes the same
row), and bumping a version never writes the wallet row again. Statement triggers with transition
tables: one upsert per statement of the projector (it inserts a batch of entries in one statement),
not one per entry. The triggers run as the writer (the projector's own role writes `ledger`).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020_wallet_history_version"
down_revision: str | None = "0019_outbox_accept_writes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (trigger suffix, event, transition table): an UPDATE changes the history of the wallet an entry
# left as well as of the one it is in, so it has a trigger for each side.
_TRIGGERS = (
    ("insert", "INSERT", "NEW TABLE"),
    ("update_new", "UPDATE", "NEW TABLE"),
    ("update_old", "UPDATE", "OLD TABLE"),
    ("delete", "DELETE", "OLD TABLE"),
)


def upgrade() -> None:
    op.execute("CREATE SEQUENCE ledger.history_versions")
    op.execute(
        "CREATE TABLE ledger.wallet_history_versions (wallet_id text PRIMARY KEY, version bigint NOT NULL)"
    )
    op.execute(
        "INSERT INTO ledger.wallet_history_versions (wallet_id, version)"
        " SELECT wallet_id, nextval('ledger.history_versions') FROM (SELECT DISTINCT wallet_id FROM ledger.transactions) w"
    )
    op.execute(
        """
        CREATE FUNCTION ledger.history_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO ledger.wallet_history_versions AS v (wallet_id, version)
            SELECT w.wallet_id, nextval('ledger.history_versions') FROM (SELECT DISTINCT wallet_id FROM changed) w
            ON CONFLICT (wallet_id) DO UPDATE SET version = EXCLUDED.version;
            RETURN NULL;
        END $$
        """
    )
    for suffix, event, transition in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER transactions_history_{suffix} AFTER {event} ON ledger.transactions"
            f" REFERENCING {transition} AS changed FOR EACH STATEMENT EXECUTE FUNCTION ledger.history_changed()"
        )
    op.execute(
        """
        CREATE FUNCTION ledger.history_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE ledger.wallet_history_versions SET version = nextval('ledger.history_versions');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER transactions_history_truncate AFTER TRUNCATE ON ledger.transactions"
        " FOR EACH STATEMENT EXECUTE FUNCTION ledger.history_emptied()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER transactions_history_truncate ON ledger.transactions")
    for suffix, _event, _transition in _TRIGGERS:
        op.execute(f"DROP TRIGGER transactions_history_{suffix} ON ledger.transactions")
    op.execute("DROP FUNCTION ledger.history_emptied()")
    op.execute("DROP FUNCTION ledger.history_changed()")
    op.execute("DROP TABLE ledger.wallet_history_versions")
    op.execute("DROP SEQUENCE ledger.history_versions")
