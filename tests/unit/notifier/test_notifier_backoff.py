"""Retry timing: exponential with jitter, capped, bounded by the channel's max age; a lease longer than a send."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pydantic
import pytest

from notifier.backoff import expired, next_attempt, retry_delay
from notifier.settings import NotifierTuning, SmtpSettings


def test_the_delay_doubles_per_attempt_within_jitter_and_stops_at_the_cap() -> None:
    rng = random.Random(7)
    for attempts, cap in ((1, 1.0), (2, 2.0), (3, 4.0), (10, 60.0)):
        delays = [retry_delay(attempts, 1.0, 60.0, rng) for _ in range(200)]
        assert all(cap / 2 <= d <= cap for d in delays)
        assert max(delays) - min(delays) > cap / 10  # jittered, not one value


def test_no_next_attempt_past_the_max_age() -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    now = created + timedelta(hours=23)
    assert next_attempt(now, created, 1800, 24 * 3600) == now + timedelta(seconds=1800)
    assert next_attempt(now, created, 7200, 24 * 3600) is None
    assert expired(created + timedelta(hours=25), created, 24 * 3600)
    assert not expired(now, created, 24 * 3600)


def test_a_lease_no_longer_than_the_smtp_timeout_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="lease_seconds must exceed"):
        NotifierTuning(lease_seconds=30, smtp=SmtpSettings(timeout_seconds=30))
    assert NotifierTuning(lease_seconds=31, smtp=SmtpSettings(timeout_seconds=30)).lease_seconds == 31
