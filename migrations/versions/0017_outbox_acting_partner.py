"""outbox: the partner whose API key a command came with (`partner_id`), and webhooks for it.

Revision ID: 0017_outbox_acting_partner
Revises: 0016_audit_trail
Create Date: 2026-12-06

A user's request sent with a partner's API key *and* the user's bearer token stays the user's
(`principal_id` is the user), so until now nothing recorded which partner's key it came with and
no webhook could fire for it. The edge now proves the partner to the services with a signed
partner token (services/licensing/authz.py, services/common/auth.py) and `record_command` stores it
in the new nullable `partner_id` (NULL: no key; a key alone also sets it, equal to the partner in
`principal_id = partner:<id>`). No foreign key: `outbox` belongs to services/common, which knows no
service's schema, and an event for a partner deleted since is simply not delivered.

`archived_commands` keeps the column (the retention worker moves it with the rest) and the view
`outbox.operations` shows it, appended after `archived` (CREATE OR REPLACE VIEW may only add columns
at the end, and replacing keeps the view's grants).

The webhook trigger of 0015 now fires for `partner_id` as well as for partner principals (rows
recorded before this revision have no `partner_id`); its function takes the partner from
`partner_id`, else from the principal. Downgrade puts 0015's function and trigger back (read from
that revision's file, not copied) before the column goes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0017_outbox_acting_partner"
down_revision: str | None = "0016_audit_trail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPERATION_COLUMNS = (
    "id, tenant, command_type, payload, request_id, principal_id, status, tx_id, block_number,"
    " error_code, error_message, result_json, created_at, updated_at"
)


def _revision_0015() -> ModuleType:
    # By path: a revision file's name is not an importable module name.
    spec = importlib.util.spec_from_file_location(
        "gx_migration_0015", Path(__file__).with_name("0015_partner_webhooks.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# 0015's function with one change: the partner is `partner_id` when the command has one (a user's
# command sent with the partner's key), else the one in `principal_id` (the key alone).
_FUNCTION = f"""
CREATE OR REPLACE FUNCTION licensing.record_webhook_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_partner uuid;
    v_type text;
    v_event uuid;
BEGIN
    v_partner := NEW.partner_id;
    IF v_partner IS NULL THEN
        BEGIN
            v_partner := substr(NEW.principal_id, 9)::uuid;
        EXCEPTION WHEN invalid_text_representation THEN
            RETURN NULL;
        END;
    END IF;
    v_type := CASE NEW.status WHEN 'COMMITTED' THEN 'operation.committed' ELSE 'operation.failed' END;
    BEGIN
        -- One event per operation and type: a command failed again after an operator's retry
        -- keeps its first event (the receiver de-duplicates by event id anyway).
        INSERT INTO licensing.webhook_events (id, partner_id, event_type, operation_id, operation, created_at)
        VALUES (gen_random_uuid(), v_partner, v_type, NEW.id, {_revision_0015()._SNAPSHOT}, now())
        ON CONFLICT (operation_id, event_type) DO NOTHING
        RETURNING id INTO v_event;
        IF v_event IS NULL THEN
            RETURN NULL;
        END IF;
        INSERT INTO notify.messages (id, channel, dedupe_key, destination, template, payload)
        SELECT gen_random_uuid(), 'webhook', 'webhook:' || v_event || ':' || e.id, e.id::text, v_type,
               jsonb_build_object('event_id', v_event, 'endpoint_id', e.id)
          FROM licensing.webhook_endpoints e
         WHERE e.partner_id = v_partner AND e.state = 'ENABLED' AND v_type = ANY (e.event_types)
        ON CONFLICT (dedupe_key) DO NOTHING;
        IF FOUND THEN
            PERFORM pg_notify('notify_new', 'webhook');
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'webhook event for command % not recorded: % (%)', NEW.id, SQLERRM, SQLSTATE;
    END;
    RETURN NULL;
END
$$
"""

_TRIGGER = """
    CREATE TRIGGER commands_webhook_events
    AFTER UPDATE OF status ON outbox.commands
    FOR EACH ROW
    WHEN (NEW.status IN ('COMMITTED', 'FAILED') AND OLD.status IS DISTINCT FROM NEW.status
          AND {who})
    EXECUTE FUNCTION licensing.record_webhook_event()
    """


def _view(*, with_partner: bool) -> str:
    extra = ", partner_id" if with_partner else ""
    return f"""
        CREATE OR REPLACE VIEW outbox.operations AS
        SELECT {_OPERATION_COLUMNS}, false AS archived{extra} FROM outbox.commands
        UNION ALL
        SELECT {_OPERATION_COLUMNS}, true AS archived{extra} FROM outbox.archived_commands
        """


def upgrade() -> None:
    op.execute("ALTER TABLE outbox.commands ADD COLUMN partner_id uuid")
    op.execute("ALTER TABLE outbox.archived_commands ADD COLUMN partner_id uuid")
    op.execute(_view(with_partner=True))
    op.execute(_FUNCTION)
    op.execute("DROP TRIGGER IF EXISTS commands_webhook_events ON outbox.commands")
    op.execute(_TRIGGER.format(who="(NEW.partner_id IS NOT NULL OR NEW.principal_id LIKE 'partner:%')"))


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS commands_webhook_events ON outbox.commands")
    op.execute(_revision_0015()._FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute(_TRIGGER.format(who="NEW.principal_id LIKE 'partner:%'"))
    # A view cannot lose a column by CREATE OR REPLACE: drop it and create it as 0012 did, grants included.
    op.execute("DROP VIEW IF EXISTS outbox.operations")
    op.execute(_view(with_partner=False).replace("CREATE OR REPLACE VIEW", "CREATE VIEW", 1))
    op.execute("GRANT SELECT ON TABLE outbox.operations TO gx_identity, gx_wallet, gx_licensing")
    op.execute("ALTER TABLE outbox.archived_commands DROP COLUMN IF EXISTS partner_id")
    op.execute("ALTER TABLE outbox.commands DROP COLUMN IF EXISTS partner_id")
