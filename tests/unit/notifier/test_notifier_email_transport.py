"""The email transport's decisions: recipient and preference at send time, and how SMTP replies are classified.

The SMTP client call is replaced by a function here (pure decision logic); the real SMTP path is
tested against a real sink in tests/workers/test_notifier_delivery.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import pytest

from notifier.render import Renderer
from notifier.settings import SmtpSettings
from notifier.transports import Message
from notifier.transports.email import EmailTransport, Recipient, message_id

_CONTEXT = {"amount_gx": "1", "balance_gx": "2", "tx_id": "t"}


def _message(**kwargs: Any) -> Message:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "channel": "email",
        "destination": "a@example.org",
        "to_user_id": None,
        "template": "money_transfer_received",
        "payload": _CONTEXT,
        "attempts": 1,
        "created_at": datetime.now(UTC),
    }
    values.update(kwargs)
    return Message(**values)


def _transport(send: Any, users: dict[uuid.UUID, Recipient] | None = None) -> EmailTransport:
    async def lookup(user_id: uuid.UUID) -> Recipient | None:
        return (users or {}).get(user_id)

    return EmailTransport(SmtpSettings(sender="GX <no-reply@gx.test>"), Renderer(), lookup, 3600.0, send=send)


async def _accept(mail: Any, **_: Any) -> tuple[dict[str, Any], str]:
    _accept.sent.append(mail)  # type: ignore[attr-defined]
    return {}, "OK queued"


async def test_a_sent_mail_carries_its_stable_message_id_and_both_parts() -> None:
    _accept.sent = []  # type: ignore[attr-defined]
    message = _message()
    outcome = await _transport(_accept).deliver(message)
    assert (outcome.kind, outcome.response) == ("sent", "250 OK queued")
    (mail,) = _accept.sent  # type: ignore[attr-defined]
    assert mail["Message-ID"] == f"<{message.id}@gx.test>" == message_id(message.id, "GX <no-reply@gx.test>")
    assert mail["To"] == "a@example.org"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]


async def test_money_mail_to_a_user_who_switched_it_off_is_skipped_without_sending() -> None:
    _accept.sent = []  # type: ignore[attr-defined]
    user = uuid.uuid4()
    transport = _transport(_accept, {user: Recipient("u@example.org", money_emails=False)})
    outcome = await transport.deliver(_message(destination=None, to_user_id=user))
    assert outcome.kind == "skipped" and outcome.detail.startswith("PREFERENCE_OFF")
    assert _accept.sent == []  # type: ignore[attr-defined]


async def test_the_users_current_address_is_used() -> None:
    _accept.sent = []  # type: ignore[attr-defined]
    user = uuid.uuid4()
    transport = _transport(_accept, {user: Recipient("now@example.org", money_emails=True)})
    assert (await transport.deliver(_message(destination=None, to_user_id=user))).kind == "sent"
    assert _accept.sent[0]["To"] == "now@example.org"  # type: ignore[attr-defined]


def _raising(error: Exception) -> Any:
    async def send(mail: Any, **_: Any) -> tuple[dict[str, Any], str]:
        raise error

    return send


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (aiosmtplib.SMTPConnectError("refused"), "retry", "SMTP_UNAVAILABLE"),
        (aiosmtplib.SMTPServerDisconnected("gone"), "retry", "SMTP_UNAVAILABLE"),
        (aiosmtplib.SMTPReadTimeoutError("slow"), "retry", "SMTP_UNAVAILABLE"),
        (ConnectionRefusedError(), "retry", "SMTP_UNAVAILABLE"),
        (aiosmtplib.SMTPDataError(451, "try later"), "retry", "SMTP_451"),
        (aiosmtplib.SMTPDataError(554, "rejected"), "failed", "SMTP_554"),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), "retry", "SMTP_AUTH"),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@example.org")]
            ),
            "failed",
            "SMTP_RECIPIENT_REFUSED",
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(452, "mailbox full", "a@example.org")]
            ),
            "retry",
            "SMTP_RECIPIENT_REFUSED",
        ),
    ],
)
async def test_smtp_errors_are_classified_retry_or_final(error: Exception, kind: str, reason: str) -> None:
    outcome = await _transport(_raising(error)).deliver(_message())
    assert outcome.kind == kind
    assert outcome.detail.startswith(reason)


async def test_an_unknown_template_fails_for_good() -> None:
    outcome = await _transport(_accept).deliver(_message(template="no_such_template"))
    assert outcome.kind == "failed" and outcome.detail.startswith("TEMPLATE_ERROR")
