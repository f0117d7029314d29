"""Failure classification (DESIGN.md §5), backoff with full jitter, and the retry loop."""

from __future__ import annotations

import random

import grpc
import pytest

from fabric_client.errors import (
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    SubmitError,
)
from fabric_client.retry import FailureKind, RetryPolicy, classify, retry_call


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (
            SubmitError(grpc.StatusCode.UNAVAILABLE, "no orderers could successfully process transaction"),
            FailureKind.TRANSIENT,
        ),
        (CommitStatusError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), FailureKind.TRANSIENT),
        (EndorseError(grpc.StatusCode.UNAVAILABLE, "circuit breaker open for peer p"), FailureKind.TRANSIENT),
        (
            EndorseError(
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction",
                [ErrorDetail("p", "Org1MSP", "chaincode stream terminated")],
            ),
            FailureKind.TRANSIENT,
        ),
        (CommitError("t", 11, 3), FailureKind.CONFLICT),
        (CommitError("t", 12, 3), FailureKind.CONFLICT),
        (CommitError("t", 9, 3), FailureKind.DUPLICATE),
        (CommitError("t", 10, 3), FailureKind.BUSINESS),
        (
            EndorseError(
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction",
                [ErrorDetail("p", "Org1MSP", "chaincode response 500, insufficient funds")],
            ),
            FailureKind.BUSINESS,
        ),
        (
            EvaluateError(
                grpc.StatusCode.UNKNOWN,
                "evaluate call to endorser returned error: chaincode response 403, forbidden",
            ),
            FailureKind.BUSINESS,
        ),
        (
            EndorseError(
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction",
                [ErrorDetail("p", "Org1MSP", "error validating proposal: access denied")],
            ),
            FailureKind.BUSINESS,
        ),
        (
            EvaluateError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "evaluate call to endorser returned error: duplicate transaction found [abc]. Creator [00]",
            ),
            FailureKind.DUPLICATE,
        ),
        (
            SubmitError(grpc.StatusCode.INVALID_ARGUMENT, "prepared transaction must be signed"),
            FailureKind.BUSINESS,
        ),
        (TimeoutError(), FailureKind.TRANSIENT),
        (ConnectionResetError(), FailureKind.TRANSIENT),
        (KeyError("bug"), FailureKind.BUSINESS),
    ],
)
def test_classify(error: BaseException, kind: FailureKind) -> None:
    assert classify(error) is kind


def test_backoff_is_full_jitter_within_the_exponential_cap() -> None:
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.1, max_backoff=2.0, multiplier=2.0)
    assert [policy.backoff_cap(n) for n in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]
    rng = random.Random(7)
    for attempt in range(1, 8):
        delays = [policy.backoff(attempt, rng) for _ in range(500)]
        cap = policy.backoff_cap(attempt)
        assert all(0.0 <= d <= cap for d in delays)
        # Full jitter spreads over the whole range, not just near the cap.
        assert min(delays) < cap * 0.1 and max(delays) > cap * 0.9
    assert policy.backoff_cap(10_000) == 2.0  # no overflow on huge attempt counts


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(multiplier=0.5)


async def test_retry_call_retries_transient_failures_until_success() -> None:
    attempts = []
    sleeps: list[float] = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise SubmitError(grpc.StatusCode.UNAVAILABLE, "down")
        return "ok"

    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    policy = RetryPolicy(max_attempts=5, initial_backoff=0.5, max_backoff=5.0)
    assert await retry_call(flaky, policy, sleep=fake_sleep, rng=random.Random(1)) == "ok"
    assert len(attempts) == 3
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0


async def test_retry_call_fails_at_once_on_business_errors() -> None:
    calls = []

    async def rejected() -> None:
        calls.append(1)
        raise EndorseError(
            grpc.StatusCode.ABORTED, "x", [ErrorDetail("p", "m", "chaincode response 400, bad")]
        )

    async def no_sleep(delay: float) -> None:
        raise AssertionError("must not sleep")

    with pytest.raises(EndorseError):
        await retry_call(rejected, RetryPolicy(), sleep=no_sleep)
    assert len(calls) == 1


async def test_retry_call_gives_up_after_the_attempt_limit() -> None:
    calls = []

    async def down() -> None:
        calls.append(1)
        raise SubmitError(grpc.StatusCode.UNAVAILABLE, "down")

    async def no_wait(delay: float) -> None:
        return None

    with pytest.raises(SubmitError):
        await retry_call(down, RetryPolicy(max_attempts=4), sleep=no_wait)
    assert len(calls) == 4


async def test_retry_call_retries_conflicts_only_when_asked() -> None:
    calls = []

    async def conflicting() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise CommitError("t", 11, 2)
        return "second transaction committed"

    async def no_wait(delay: float) -> None:
        return None

    with pytest.raises(CommitError):
        await retry_call(conflicting, RetryPolicy(), sleep=no_wait)
    calls.clear()
    result = await retry_call(
        conflicting, RetryPolicy(), retry_on={FailureKind.TRANSIENT, FailureKind.CONFLICT}, sleep=no_wait
    )
    assert result == "second transaction committed" and len(calls) == 2
