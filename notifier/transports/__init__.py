"""Transports by channel: each turns one claimed message into an `Outcome`; the worker records it.

A transport never raises for a message's fate (the worker treats anything it does raise as a
retryable error). The email transport is here; helper code for other channels (webhooks)
registers another `Transport` under its channel in `notifier.__main__.build`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

OutcomeKind = Literal["sent", "retry", "failed", "skipped"]


@dataclass(frozen=True)
class Message:
    """A claimed row of notify.messages (this attempt's view of it).

    Attributes:
        attempts: this attempt's number (1 for the first); the claim's fencing token: only the
            holder of this attempt may finish the row.
    """

    id: uuid.UUID
    channel: str
    destination: str | None
    to_user_id: uuid.UUID | None
    template: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What happened to one attempt.

    Attributes:
        kind: sent (the receiver accepted it), retry (try again later), failed (never will
            succeed: give up), skipped (nothing to send: preference off, no recipient).
        detail: the error or reason (stored as last_error; upper-snake reason first).
        response: what the receiver answered (stored as last_response), when it answered.
    """

    kind: OutcomeKind
    detail: str = ""
    response: str | None = None


class Transport(Protocol):
    """Sends the messages of one channel."""

    @property
    def channel(self) -> str:
        """The `notify.messages.channel` it sends."""
        ...

    @property
    def max_age_seconds(self) -> float:
        """A message of this channel older than this is given up (FAILED EXPIRED)."""
        ...

    async def deliver(self, message: Message) -> Outcome:
        """Try once to deliver `message`."""
        ...
