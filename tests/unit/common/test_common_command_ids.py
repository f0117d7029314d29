"""New command ids are UUIDv7 (RFC 9562): time-ordered, so a command's index entries go to the right-hand edge."""

from __future__ import annotations

import time
import uuid

import pytest

from services.common import outbox


def test_an_id_is_a_version_7_uuid_of_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    made = outbox.new_command_id()
    after = time.time_ns() // 1_000_000
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert before <= made.int >> 80 <= after


def test_ids_of_a_later_millisecond_sort_after_and_ids_of_one_millisecond_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([1_000_000_000] * 500 + [1_001_000_000] * 500)
    monkeypatch.setattr(time, "time_ns", lambda: next(clock))
    earlier = [outbox.new_command_id() for _ in range(500)]
    later = [outbox.new_command_id() for _ in range(500)]
    assert max(earlier) < min(later)
    assert len(set(earlier)) == 500 and len(set(later)) == 500
    assert {i.int >> 80 for i in earlier} == {1_000} and {i.int >> 80 for i in later} == {1_001}
    assert all((i.version, i.variant) == (7, uuid.RFC_4122) for i in earlier + later)
