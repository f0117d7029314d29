"""The tables of schema `outbox`, declared once as SQLAlchemy Core tables: one job each.

- `commands`: the job queue. Services insert (`services.common.outbox.record_command`), the
  outbox worker claims and finishes, the retention worker (`outbox.retention`) moves finished
  commands out.
- `live_keys`: the ordering keys of unfinished commands (kept by triggers, migrations 0007, 0018, 0019).
- `retries`: operator retry links (a new command repeating a failed one).
- `resource_ids`: the public id ↔ ledger id map of the resources commands create (organisations,
  multisig transactions, loans, proposals), written in the statement that records the command and
  never archived, so lookups by public id do not depend on the queue keeping old rows.
- `archived_commands`: finished commands moved out of the queue, with what their operation shows.
- the view `operations` (commands plus archived_commands): the one place operations are read from
  (`services.common.operations`).

The migrations create the same objects; `alembic check` fails when the two disagree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

SCHEMA = "outbox"

metadata = MetaData(schema=SCHEMA)

# Views: declared so that queries (and the statement check) know their columns; a migration's DDL
# creates them and `alembic check` leaves them out.
views = MetaData(schema=SCHEMA)
VIEW = {"is_view": True}

_NOW = text("now()")
_EMPTY_KEYS = text("'{}'::text[]")
_LIVE = text("status IN ('PENDING', 'SUBMITTED')")
_FINISHED = text("status IN ('COMMITTED', 'FAILED')")

commands_seq = Sequence("commands_seq_seq", metadata=metadata, data_type=BigInteger)

commands = Table(
    "commands",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False, server_default=text("'gx'")),
    Column("command_type", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("principal_id", Text),
    Column("status", Text, nullable=False, server_default=text("'PENDING'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=_NOW),
    Column("lease_owner", Text),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("tx_id", Text),
    Column("envelope", LargeBinary),
    Column("block_number", BigInteger),
    Column("validation_code", Text),
    Column("error_code", Text),
    Column("error_message", Text),
    Column("result_json", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=_NOW),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=_NOW),
    Column("seq", BigInteger, nullable=False, server_default=commands_seq.next_value()),
    Column("order_keys", ARRAY(Text), nullable=False, server_default=_EMPTY_KEYS),
    Column("exclusive_keys", ARRAY(Text), nullable=False, server_default=_EMPTY_KEYS),
    Column("depends_on", UUID(as_uuid=True), ForeignKey("outbox.commands.id")),
    Column("traceparent", Text),
    # The partner whose API key the command came with (migration 0017); NULL without a key.
    Column("partner_id", UUID(as_uuid=True)),
    UniqueConstraint("tenant", "request_id", name="commands_tenant_request_id_key"),
    CheckConstraint("attempts >= 0", name="commands_attempts_check"),
    CheckConstraint(
        "status IN ('PENDING', 'SUBMITTED', 'COMMITTED', 'FAILED')", name="commands_status_check"
    ),
    Index("commands_due_idx", "next_attempt_at", "seq", postgresql_where=_LIVE),
    Index("commands_status_created_idx", "status", text("created_at DESC")),
    # No index on principal_id (migration 0019 dropped it): no query reads commands by principal,
    # and every index is written again by each non-HOT update (claim, store, record).
    Index("commands_tx_id_idx", "tx_id", postgresql_where=text("tx_id IS NOT NULL")),
    Index("commands_seq_key", "seq", unique=True),
    Index("commands_depends_on_idx", "depends_on", postgresql_where=text("depends_on IS NOT NULL")),
    Index("commands_type_seq_idx", "command_type", text("seq DESC")),
    Index("commands_committed_block_idx", "block_number", postgresql_where=text("status = 'COMMITTED'")),
    # The retention worker's scan: finished commands, oldest finish first.
    Index("commands_finished_idx", "updated_at", postgresql_where=_FINISHED),
)

live_keys = Table(
    "live_keys",
    metadata,
    Column("key", Text, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    # No foreign key (migration 0018): its check cost every key of every accept a query; the keys
    # are copied from the command row by its trigger, and a trigger drops a deleted live command's.
    Column("command_id", UUID(as_uuid=True), nullable=False),
    Column("exclusive", Boolean, nullable=False),
    Index("live_keys_exclusive_idx", "key", "seq", postgresql_where=text("exclusive")),
    Index("live_keys_command_idx", "command_id"),
)

# No foreign keys to `commands`: the link outlives the queue rows (either side may be archived).
retries = Table(
    "retries",
    metadata,
    Column("command_id", UUID(as_uuid=True), primary_key=True),
    Column("retry_of", UUID(as_uuid=True), nullable=False),
    Column("requested_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=_NOW),
    Index("retries_retry_of_idx", "retry_of"),
)

resource_ids = Table(
    "resource_ids",
    metadata,
    # The id of the operation (command) that created the resource: what the API calls it.
    Column("public_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False, server_default=text("'gx'")),
    # The resource's id on the ledger: the creating command's request id.
    Column("ledger_id", Text, nullable=False),
    # Its kind (`ORGANIZATION`, `MULTISIG_TX`, `LOAN`, `PROPOSAL`: the command's declared `creates`).
    Column("kind", Text, nullable=False),
    Column("command_type", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=_NOW),
    UniqueConstraint("tenant", "ledger_id", name="resource_ids_tenant_ledger_id_key"),
)

archived_commands = Table(
    "archived_commands",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("command_type", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("principal_id", Text),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("tx_id", Text),
    Column("block_number", BigInteger),
    Column("validation_code", Text),
    Column("error_code", Text),
    Column("error_message", Text),
    Column("result_json", Text),
    Column("traceparent", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("archived_at", DateTime(timezone=True), nullable=False, server_default=_NOW),
    Column("partner_id", UUID(as_uuid=True)),
    # A request id stays taken after its command is archived (record_command checks here too).
    UniqueConstraint("tenant", "request_id", name="archived_commands_tenant_request_id_key"),
    CheckConstraint("status IN ('COMMITTED', 'FAILED')", name="archived_commands_status_check"),
    Index("archived_commands_principal_idx", "principal_id", text("created_at DESC")),
)

# What an operation shows, for live and archived commands alike (migration 0012's view).
operations = Table(
    "operations",
    views,
    Column("id", UUID(as_uuid=True)),
    Column("tenant", Text),
    Column("command_type", Text),
    Column("payload", JSONB),
    Column("request_id", Text),
    Column("principal_id", Text),
    Column("status", Text),
    Column("tx_id", Text),
    Column("block_number", BigInteger),
    Column("error_code", Text),
    Column("error_message", Text),
    Column("result_json", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("archived", Boolean),
    Column("partner_id", UUID(as_uuid=True)),
    info=VIEW,
)
