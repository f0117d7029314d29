"""Money notifications: when a transaction credits a user (transfer, genesis, loan disbursement), record their email.

Called by `runner.apply_event` in the transaction that projects the event, after the read models
are updated, so the mail names the balance the read models now show and is recorded exactly when
the event is: a rolled-back projection records no mail, a committed one always has its mail.

Never twice: the dedupe key is the transaction id and the recipient, so replaying a transaction
(a duplicate delivery, a restart before the checkpoint moved) records nothing new. A `rebuild`
replays the whole chain: transactions older than `HORIZON` (by the chain's clock) record nothing
at all, and the younger ones already have their message, so the key makes them no-ops too.
The horizon also keeps a projector catching up after a long outage from mailing stale news.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from projector.tables import wallets
from services.common import notify

# Older transactions (chain time) are not mailed: rebuilds and long catch-ups stay silent.
HORIZON: Final = timedelta(hours=24)
_QIRAT_PER_GX: Final = 1_000_000


@dataclass(frozen=True)
class Credit:
    """One user-facing credit a transaction made."""

    template: str
    wallet_id: str
    amount_qirat: int
    extra: dict[str, str]


def format_gx(qirat: int) -> str:
    """Qirat as a GX amount for people: `1500000` → `1.5`, `2000000` → `2`, `-1` → `-0.000001`."""
    sign = "-" if qirat < 0 else ""
    whole, fraction = divmod(abs(qirat), _QIRAT_PER_GX)
    decimals = f"{fraction:06d}".rstrip("0")
    return f"{sign}{whole:,}{'.' + decimals if decimals else ''}"


def credits_of(message: Any) -> Iterator[Credit]:
    """The credits to users in a `gx.ledger.v1.LedgerEvents` (the events that move money to a user)."""
    for event in message.events:
        kind = event.WhichOneof("event")
        if not kind:
            continue
        e: Any = getattr(event, kind)
        if kind == "transfer_completed" and e.amount_qirat > 0:
            yield Credit("money_transfer_received", e.to_account_id, e.amount_qirat, {})
        elif kind == "genesis_distributed" and e.user_qirat > 0:
            yield Credit("money_genesis_received", e.user_id, e.user_qirat, {})
        elif kind == "loan_approved" and e.amount_qirat > 0:
            yield Credit("money_loan_disbursed", e.borrower_id, e.amount_qirat, {"loan_id": e.loan_id})


def dedupe_key(tx_id: str, user_id: uuid.UUID) -> str:
    """The one message a transaction can record for one user (`projector.batch` checks it in bulk)."""
    return f"money:{tx_id}:{user_id}"


async def record_money_notifications(
    conn: AsyncConnection, tx_id: str, when: datetime | None, message: Any, now: datetime | None = None
) -> int:
    """Record the email of each user this transaction credited, in the projector's transaction.

    Args:
        conn: The projector's connection, inside the transaction applying `message`.
        tx_id: The Fabric transaction id.
        when: The transaction's time (chain clock); None (no time recorded) counts as now.
        message: The transaction's `gx.ledger.v1.LedgerEvents`.
        now: The current time (tests).

    Returns:
        How many messages were recorded now (0 for a replay, an old transaction, or no credit).
    """
    if when is not None and when < (now or datetime.now(UTC)) - HORIZON:
        return 0
    recorded = 0
    seen: set[str] = set()
    for credit in credits_of(message):
        row = (await conn.execute(WALLET_OF_CREDIT, {"wallet_id": credit.wallet_id})).first()
        recorded += await record_credit(conn, tx_id, credit, row, seen)
    return recorded


# The credited wallet as the read model shows it after the transaction (`projector.batch` queues
# it on its pipeline at the transaction's place and records the mails after the batch's writes).
WALLET_OF_CREDIT: Final = select(wallets.c.user_id, wallets.c.balance_qirat).where(
    wallets.c.wallet_id == bindparam("wallet_id"), wallets.c.account_type == "USER"
)


async def record_credit(conn: AsyncConnection, tx_id: str, credit: Credit, row: Any, seen: set[str]) -> bool:
    """Record the mail of one credit, given its wallet's row (`WALLET_OF_CREDIT`, None if no user's).

    Returns:
        Whether a message was recorded (not for a non-user wallet, a second credit of the same
        user in `seen`, the transaction's keys so far).
    """
    # Not a user's wallet (an organisation, a treasury), or a ledger user identity does not
    # know (ids are identity's UUIDs; anything else was created outside it): nobody to mail.
    if row is None or not row.user_id:
        return False
    try:
        user_id = uuid.UUID(row.user_id)
    except ValueError:
        return False
    key = dedupe_key(tx_id, user_id)
    if key in seen:
        return False
    seen.add(key)
    await notify.enqueue_email(
        conn,
        to_address=None,
        to_user_id=user_id,
        template=credit.template,
        context={
            "amount_gx": format_gx(credit.amount_qirat),
            "amount_qirat": credit.amount_qirat,
            "balance_gx": format_gx(int(row.balance_qirat)),
            "balance_qirat": int(row.balance_qirat),
            "tx_id": tx_id,
            **credit.extra,
        },
        dedupe_key=key,
    )
    return True
