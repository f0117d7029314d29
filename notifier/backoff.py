"""When to try a message again: exponential backoff with jitter, bounded by the channel's max age."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def retry_delay(attempts: int, initial: float, maximum: float, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after `attempts` failed ones (1 = the first failed).

    Equal jitter (a uniform draw from half the exponential cap to the cap) spreads the retries of
    many messages that failed together (one SMTP outage) instead of sending them back in one
    burst, and still waits at least half the cap, so a relay that is down is not hammered.
    """
    cap = min(maximum, initial * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(cap / 2, cap) if cap > 0 else 0.0


def next_attempt(
    now: datetime, created_at: datetime, delay: float, max_age_seconds: float
) -> datetime | None:
    """The next attempt's time, or None when it would fall after the message's max age (give up)."""
    at = now + timedelta(seconds=delay)
    return None if at > created_at + timedelta(seconds=max_age_seconds) else at


def expired(now: datetime, created_at: datetime, max_age_seconds: float) -> bool:
    """Whether a message is older than its channel's max age (it is failed, not sent)."""
    return now > created_at + timedelta(seconds=max_age_seconds)
