"""The `email` channel: render the templates, resolve the recipient, send over SMTP with aiosmtplib."""

from __future__ import annotations

import email.utils
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Final

import aiosmtplib

from notifier.render import Renderer, TemplateError
from notifier.settings import SmtpSettings
from notifier.transports import Message, Outcome, OutcomeKind

_LOG = logging.getLogger(__name__)

# Templates whose name starts with this are money notifications: a user who switched them off
# in their profile (identity.users.money_emails) gets none, decided at send time.
MONEY_PREFIX: Final = "money_"


@dataclass(frozen=True)
class Recipient:
    """A user's address and preferences as identity has them now."""

    email: str
    money_emails: bool


# user id -> the user, or None when there is no such user.
RecipientLookup = Callable[[uuid.UUID], Awaitable[Recipient | None]]
# What actually talks SMTP (aiosmtplib.send by default; a unit test may pass its own).
SmtpSend = Callable[..., Awaitable[tuple[dict[str, aiosmtplib.SMTPResponse], str]]]


def message_id(message_uuid: uuid.UUID, sender: str) -> str:
    """The Message-ID of a queued message: the same on every attempt, so a receiver can drop a
    repeat sent after a crash between the server's acceptance and our record of it."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "gx.local"
    return f"<{message_uuid}@{domain}>"


class EmailTransport:
    """Sends `email` messages to an SMTP relay, one connection per message.

    Args:
        smtp: The relay and sender.
        renderer: The templates.
        recipients: Resolves `to_user_id` at send time.
        max_age_seconds: Give up on a message older than this.
        send: The SMTP client call (aiosmtplib.send).
    """

    channel: Final = "email"

    def __init__(
        self,
        smtp: SmtpSettings,
        renderer: Renderer,
        recipients: RecipientLookup,
        max_age_seconds: float,
        send: SmtpSend = aiosmtplib.send,
    ) -> None:
        self._smtp = smtp
        self._renderer = renderer
        self._recipients = recipients
        self._send = send
        self.max_age_seconds = max_age_seconds

    async def deliver(self, message: Message) -> Outcome:
        """Render and send one message; classify what the relay said."""
        address = message.destination
        if message.to_user_id is not None:
            recipient = await self._recipients(message.to_user_id)
            if recipient is None or not recipient.email:
                return Outcome("skipped", "NO_RECIPIENT: no such user or no address")
            if message.template.startswith(MONEY_PREFIX) and not recipient.money_emails:
                return Outcome("skipped", "PREFERENCE_OFF: the user switched money emails off")
            address = recipient.email
        assert address is not None  # notify.messages_recipient_check
        try:
            rendered = self._renderer.render(message.template, message.payload)
        except TemplateError as error:
            return Outcome("failed", f"TEMPLATE_ERROR: {error}")
        mail = EmailMessage()
        mail["From"] = self._smtp.sender
        mail["To"] = address
        mail["Subject"] = rendered.subject
        mail["Message-ID"] = message_id(message.id, self._smtp.sender)
        mail["Date"] = email.utils.format_datetime(message.created_at)
        mail.set_content(rendered.text)
        mail.add_alternative(rendered.html, subtype="html")
        try:
            refused, response = await self._send(
                mail,
                hostname=self._smtp.host,
                port=self._smtp.port,
                username=self._smtp.username or None,
                password=self._smtp.password.get_secret_value() or None,
                start_tls=self._smtp.starttls,
                use_tls=self._smtp.use_tls,
                timeout=self._smtp.timeout_seconds,
            )
        except aiosmtplib.SMTPAuthenticationError as error:
            # Our credentials, not the message: keep it queued until an operator fixes them.
            _LOG.error("SMTP authentication failed at %s:%s: %s", self._smtp.host, self._smtp.port, error)
            return Outcome("retry", f"SMTP_AUTH: {error.code} {error.message}")
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            kind: OutcomeKind = "failed" if codes and all(code >= 500 for code in codes) else "retry"
            detail = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            return Outcome(kind, f"SMTP_RECIPIENT_REFUSED: {detail}", detail)
        except aiosmtplib.SMTPResponseException as error:
            # 5xx is the relay's final no for this message; 4xx (and anything else) is "later".
            kind_: OutcomeKind = "failed" if error.code >= 500 else "retry"
            return Outcome(kind_, f"SMTP_{error.code}: {error.message}", f"{error.code} {error.message}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return Outcome("retry", f"SMTP_UNAVAILABLE: {type(error).__name__}: {error}")
        if refused:
            detail = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in refused.items())
            return Outcome("failed", f"SMTP_RECIPIENT_REFUSED: {detail}", response)
        # aiosmtplib returns the DATA reply's text; its code was 250 (anything else raised).
        return Outcome("sent", response=f"250 {response}")
