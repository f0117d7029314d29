"""Partner webhooks: endpoints, events recorded by a trigger on outbox.commands, deliveries in notify.messages.

Revision ID: 0015_partner_webhooks
Revises: 0014_identity_accounts
Create Date: 2026-12-06

The tables mirror services/licensing/tables.py. An operation created with a partner's API key
alone is recorded with `principal_id = 'partner:<partner id>'` (services.common.auth). When the
outbox worker moves such a command to COMMITTED or FAILED, the trigger below records the event
(`operation.committed` / `operation.failed`) and one `webhook` message per enabled endpoint of
the partner that subscribes to it, in the same transaction as the status change: the event
exists exactly when the outcome does, and the notifier (notifier/webhooks.py) delivers it.

The trigger function is SECURITY DEFINER (it runs as the migrating role, which owns both
tables), so the outbox's role gets no grant on licensing or notify; its search_path is pinned so
no caller's schema can shadow what it names. A failure inside it is logged as a WARNING and
swallowed: a webhook must never stop the ledger's outcomes from being recorded.

Grants (see 0011, 0013): licensing's default privileges cover its new tables; the notifier reads
the endpoint columns it sends with and the events; licensing may give up a deleted or disabled
endpoint's waiting messages (UPDATE of the status columns of notify.messages).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_partner_webhooks"
down_revision: str | None = "0014_identity_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The command row as it became terminal: the fields services.common.outbox.operation_from_row
# reads, so the notifier builds the event's `data.operation` with the same code GetOperation uses.
_SNAPSHOT = """jsonb_build_object(
        'id', NEW.id, 'command_type', NEW.command_type, 'status', NEW.status, 'tx_id', NEW.tx_id,
        'block_number', NEW.block_number, 'error_code', NEW.error_code, 'error_message', NEW.error_message,
        'result_json', NEW.result_json, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at)"""

_FUNCTION = f"""
CREATE FUNCTION licensing.record_webhook_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_partner uuid;
    v_type text;
    v_event uuid;
BEGIN
    BEGIN
        v_partner := substr(NEW.principal_id, 9)::uuid;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN NULL;
    END;
    v_type := CASE NEW.status WHEN 'COMMITTED' THEN 'operation.committed' ELSE 'operation.failed' END;
    BEGIN
        -- One event per operation and type: a command failed again after an operator's retry
        -- keeps its first event (the receiver de-duplicates by event id anyway).
        INSERT INTO licensing.webhook_events (id, partner_id, event_type, operation_id, operation, created_at)
        VALUES (gen_random_uuid(), v_partner, v_type, NEW.id, {_SNAPSHOT}, now())
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


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE licensing.webhook_endpoints (
            id             uuid        PRIMARY KEY,
            partner_id     uuid        NOT NULL REFERENCES licensing.partners (id),
            url            text        NOT NULL,
            event_types    text[]      NOT NULL,
            description    text        NOT NULL DEFAULT '',
            state          text        NOT NULL,
            secret         text        NOT NULL,
            secret_prefix  text        NOT NULL,
            previous_secret            text,
            previous_secret_expire_at  timestamptz,
            created_at     timestamptz NOT NULL,
            updated_at     timestamptz NOT NULL,
            CONSTRAINT webhook_endpoints_state_check CHECK (state IN ('ENABLED', 'DISABLED')),
            CONSTRAINT webhook_endpoints_event_types_check CHECK (cardinality(event_types) > 0)
        )
        """
    )
    op.execute(
        "CREATE INDEX webhook_endpoints_partner_idx ON licensing.webhook_endpoints (partner_id, created_at, id)"
    )
    op.execute(
        """
        CREATE TABLE licensing.webhook_events (
            id            uuid        PRIMARY KEY,
            partner_id    uuid        NOT NULL,
            event_type    text        NOT NULL,
            operation_id  uuid        NOT NULL,
            operation     jsonb       NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT webhook_events_operation_key UNIQUE (operation_id, event_type)
        )
        """
    )
    op.execute("CREATE INDEX webhook_events_partner_idx ON licensing.webhook_events (partner_id, created_at)")
    # An endpoint's delivery log (newest first) and its waiting messages, by destination.
    op.execute(
        "CREATE INDEX messages_webhook_destination_idx ON notify.messages (destination, created_at, id)"
        " WHERE channel = 'webhook'"
    )
    op.execute(_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION licensing.record_webhook_event() FROM PUBLIC")
    # Only partner principals' commands, and only on the move into a terminal state.
    op.execute(
        """
        CREATE TRIGGER commands_webhook_events
        AFTER UPDATE OF status ON outbox.commands
        FOR EACH ROW
        WHEN (NEW.status IN ('COMMITTED', 'FAILED') AND OLD.status IS DISTINCT FROM NEW.status
              AND NEW.principal_id LIKE 'partner:%')
        EXECUTE FUNCTION licensing.record_webhook_event()
        """
    )
    op.execute("GRANT USAGE ON SCHEMA licensing TO gx_notifier")
    op.execute(
        "GRANT SELECT (id, partner_id, url, state, secret, previous_secret, previous_secret_expire_at)"
        " ON licensing.webhook_endpoints TO gx_notifier"
    )
    op.execute("GRANT SELECT ON licensing.webhook_events TO gx_notifier")
    op.execute("GRANT UPDATE (status, last_error, updated_at) ON notify.messages TO gx_licensing")


def downgrade() -> None:
    op.execute("REVOKE UPDATE (status, last_error, updated_at) ON notify.messages FROM gx_licensing")
    op.execute("DROP TRIGGER IF EXISTS commands_webhook_events ON outbox.commands")
    op.execute("DROP FUNCTION IF EXISTS licensing.record_webhook_event()")
    op.execute("DROP INDEX IF EXISTS notify.messages_webhook_destination_idx")
    op.execute("DROP TABLE IF EXISTS licensing.webhook_events")
    op.execute("DROP TABLE IF EXISTS licensing.webhook_endpoints")
    op.execute("REVOKE USAGE ON SCHEMA licensing FROM gx_notifier")
