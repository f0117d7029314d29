"""The circuit breaker state machine, on a fake clock."""

from __future__ import annotations

import pytest

from fabric_client.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _breaker(clock: Clock, **kwargs: object) -> tuple[CircuitBreaker, list[BreakerState]]:
    seen: list[BreakerState] = []
    breaker = CircuitBreaker(
        "peer0:7051",
        failure_threshold=3,
        reset_timeout=10.0,
        clock=clock,
        on_state_change=lambda _name, state: seen.append(state),
        **kwargs,  # type: ignore[arg-type]
    )
    return breaker, seen


def test_consecutive_failures_open_the_breaker_and_successes_reset_the_count() -> None:
    clock = Clock()
    breaker, seen = _breaker(clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    breaker.record_success()  # the count is of consecutive failures
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and seen == []
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and seen == [BreakerState.OPEN]
    assert not breaker.allow()
    assert breaker.retry_after == pytest.approx(10.0)


def test_open_breaker_turns_half_open_after_the_reset_timeout_and_allows_one_trial() -> None:
    clock = Clock()
    breaker, seen = _breaker(clock)
    for _ in range(3):
        breaker.allow()
        breaker.record_failure()
    clock.now += 9.9
    assert not breaker.allow() and breaker.retry_after == pytest.approx(0.1)
    clock.now += 0.1
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # only one at a time
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert seen == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]
    assert breaker.allow() and breaker.allow()


def test_failed_trial_reopens_for_a_full_timeout() -> None:
    clock = Clock()
    breaker, seen = _breaker(clock)
    for _ in range(3):
        breaker.allow()
        breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after == pytest.approx(10.0)
    clock.now += 5
    assert not breaker.allow()
    assert seen == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN]


def test_an_ignored_trial_frees_the_half_open_slot() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    for _ in range(3):
        breaker.allow()
        breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_ignored()  # e.g. the caller cancelled the trial call
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("p", failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker("p", half_open_max_calls=0)
