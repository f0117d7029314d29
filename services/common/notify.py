"""Recording outgoing messages (email, webhooks) in `notify.messages`, in the caller's transaction.

The notifier worker (notifier/) sends them. Recording in the transaction of the event that causes
a message means the event and its message commit together or not at all: no mail for a rolled-back
change, no change without its mail. `NOTIFY notify_new` wakes a notifier on commit.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, Final

from services.common.db import Queryable, fetch_all
from services.common.names import NOTIFIER_NOTIFY_CHANNEL
from services.common.notify_tables import CHANNELS

NOTIFY_CHANNEL: Final = NOTIFIER_NOTIFY_CHANNEL
_TEMPLATE_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
# A header value: no CR/LF (header injection), something@something, within RFC 5321's path limit.
_ADDRESS: Final = re.compile(r"[^\s@<>,;\"]+@[^\s@<>,;\"]+")

# The insert and its NOTIFY in one statement; on a dedupe-key conflict nothing is inserted, so
# nothing is notified, and the second statement returns the first message's id.
_INSERT = """
    WITH inserted AS (
        INSERT INTO notify.messages (id, channel, dedupe_key, destination, to_user_id, template, payload)
        VALUES (%(id)s, %(channel)s, %(dedupe_key)s, %(destination)s, %(to_user_id)s, %(template)s,
                CAST(%(payload)s AS jsonb))
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id, channel
    )
    SELECT inserted.id, pg_notify(%(notify)s, inserted.channel) AS notified FROM inserted
    """
_EXISTING = "SELECT id FROM notify.messages WHERE dedupe_key = %(dedupe_key)s"


async def enqueue(
    db: Queryable,
    *,
    channel: str,
    destination: str | None,
    to_user_id: str | uuid.UUID | None,
    template: str,
    payload: Mapping[str, Any],
    dedupe_key: str,
) -> uuid.UUID:
    """Record one outgoing message of any channel in the caller's transaction.

    Args:
        db: The caller's session or connection, inside its transaction.
        channel: `email` or `webhook` (services.common.notify_tables.CHANNELS).
        destination: The address (email) or endpoint (webhook), or None when `to_user_id` names
            the recipient.
        to_user_id: An identity user id whose address is resolved at send time.
        template: The template name (email) or event type (webhook).
        payload: JSON-serialisable: the template's context or the event body.
        dedupe_key: Unique across all messages; recording the same key again records nothing
            and returns the first message's id.

    Returns:
        The message's id.

    Raises:
        ValueError: a malformed argument (a programming error: nothing is written).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if destination is None and to_user_id is None:
        raise ValueError("a message needs a destination or a to_user_id")
    if not dedupe_key:
        raise ValueError("dedupe_key must not be empty")
    user_id = uuid.UUID(str(to_user_id)) if to_user_id is not None else None
    params = {
        "id": uuid.uuid4(),
        "channel": channel,
        "dedupe_key": dedupe_key,
        "destination": destination,
        "to_user_id": user_id,
        "template": template,
        # Strict JSON (no NaN, no str() fallback): a context the renderer could not read back
        # must fail here, in the caller's transaction, not later in the worker.
        "payload": json.dumps(dict(payload), allow_nan=False),
        "notify": NOTIFY_CHANNEL,
    }
    rows = await fetch_all(db, _INSERT, params)
    if rows:
        return uuid.UUID(str(rows[0].id))
    existing = await fetch_all(db, _EXISTING, {"dedupe_key": dedupe_key})
    return uuid.UUID(str(existing[0].id))


async def enqueue_email(
    db: Queryable,
    *,
    to_address: str | None,
    to_user_id: str | uuid.UUID | None,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
) -> uuid.UUID:
    """Record one email in the caller's transaction; the notifier renders and sends it.

    Give exactly one recipient: `to_address` (e.g. a verification mail to an address not yet
    verified) or `to_user_id` (the address and the user's preferences are read from identity's
    users at send time; a user with money mails switched off gets no `money_*` template).

    Args:
        db: The caller's session or connection, inside its transaction (commit publishes it).
        to_address: The recipient's address.
        to_user_id: The recipient's identity user id.
        template: `notifier/templates/<template>.txt` and `.html`, rendered at send time with
            `context` (HTML-escaped in the HTML part).
        context: JSON-serialisable values for the template (money as int Qirat).
        dedupe_key: Unique per message (e.g. `transfer:<tx id>:<user id>`): recording the same
            key again is a no-op that returns the first message's id.

    Returns:
        The message's id.

    Raises:
        ValueError: both or neither recipient, a malformed address or template name, a context
            that is not JSON, an empty dedupe key (nothing is written).
    """
    if (to_address is None) == (to_user_id is None):
        raise ValueError("give exactly one of to_address and to_user_id")
    if to_address is not None and (len(to_address) > 254 or not _ADDRESS.fullmatch(to_address)):
        raise ValueError("malformed email address")
    if not _TEMPLATE_NAME.fullmatch(template):
        raise ValueError(f"malformed template name {template!r}")
    return await enqueue(
        db,
        channel="email",
        destination=to_address,
        to_user_id=to_user_id,
        template=template,
        payload=context,
        dedupe_key=dedupe_key,
    )
