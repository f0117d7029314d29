"""Which modules declare the database's tables: the metadata `alembic check` compares the migrations with.

Each owner declares its own tables once, as SQLAlchemy Core `Table`s on a module-level `metadata`
(one `MetaData` per owner, schema-qualified). A module that declares a new schema's tables is
added here; `migrations/env.py` uses the list as its target metadata and
`tests/unit/common/test_common_declared_sql.py` checks hand-written SQL against the same tables.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData, Table

# owner module -> what it owns
OWNERS: tuple[str, ...] = (
    "services.common.idempotency_tables",  # platform: AIP-155 idempotency records
    "services.common.notify_tables",  # notify: the outgoing-message queue
    "services.identity.tables",  # identity
    "services.licensing.tables",  # licensing
    "projector.tables",  # ledger: the read models and the projector's bookkeeping
    "services.common.outbox_tables",  # outbox: the command queue, resource id map, archive, operations view
    "services.common.audit_tables",  # audit: the append-only audit trail of every service
)

# Views a module declares (so queries may name their columns) but a migration's DDL creates: on
# an owner module's `views` MetaData, never compared by `alembic check`.
VIEWS_ATTRIBUTE = "views"


def metadatas() -> list[MetaData]:
    """Every owner's table metadata, in `OWNERS` order (what the migrations must create)."""
    return [importlib.import_module(name).metadata for name in OWNERS]


def view_tables() -> list[Table]:
    """Every declared view, as a Table (columns only)."""
    found: list[Table] = []
    for name in OWNERS:
        views = getattr(importlib.import_module(name), VIEWS_ATTRIBUTE, None)
        if isinstance(views, MetaData):
            found.extend(views.tables.values())
    return found


def all_tables() -> dict[str, Table]:
    """Every declared table and view by its schema-qualified name (`ledger.wallets`)."""
    tables = {table.fullname: table for metadata in metadatas() for table in metadata.tables.values()}
    tables.update({view.fullname: view for view in view_tables()})
    return tables
