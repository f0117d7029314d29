"""Failure classification (DESIGN.md §5) and retries with exponential backoff and full jitter."""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

import grpc

from fabric_client.errors import CommitError, GatewayError

_log = logging.getLogger(__name__)
T = TypeVar("T")


class FailureKind(enum.Enum):
    """What a failure means for the caller.

    TRANSIENT: try the same thing again later (peer down, deadline, overload).
    CONFLICT: committed as MVCC/phantom read conflict; build a NEW transaction and retry.
    BUSINESS: the chaincode or the peer refused the request for good; fail at once.
    DUPLICATE: the transaction id was already used; the first outcome stands (ask CommitStatus).
    """

    TRANSIENT = "transient"
    CONFLICT = "conflict"
    BUSINESS = "business"
    DUPLICATE = "duplicate"


_CONFLICT_CODES = frozenset({"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"})
_TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)
# Texts by which the peer says it refused the proposal itself (signature, creator, txid): repeating
# the same signed bytes can never succeed. Other ABORTED causes (chaincode not running, execution
# timeout, stream terminated) are the peer's trouble and pass with time.
_REFUSED_PROPOSAL = ("access denied", "error validating proposal", "incorrectly computed txid", "signature")
_DUPLICATE_TEXT = "duplicate transaction found"


def classify(error: BaseException) -> FailureKind:
    """Classify a failure from this client (or the transport) per DESIGN.md §5.

    Args:
        error: the exception raised by a client call.

    Returns:
        TRANSIENT for UNAVAILABLE, deadlines, an open circuit breaker and other peer-side trouble;
        CONFLICT for MVCC_READ_CONFLICT / PHANTOM_READ_CONFLICT commits; DUPLICATE for DUPLICATE_TXID
        commits and "duplicate transaction found" refusals; BUSINESS for chaincode rejections (any
        chaincode response status), invalid requests, refused proposals, other invalid commits and
        unexpected exceptions (a bug is not fixed by retrying).
    """
    if isinstance(error, CommitError):
        if error.code_name in _CONFLICT_CODES:
            return FailureKind.CONFLICT
        if error.code_name == "DUPLICATE_TXID":
            return FailureKind.DUPLICATE
        return FailureKind.BUSINESS
    if isinstance(error, GatewayError):
        texts = [error.message, *(d.message for d in error.details)]
        if any(_DUPLICATE_TEXT in t for t in texts):
            return FailureKind.DUPLICATE
        if error.chaincode_status is not None:
            return FailureKind.BUSINESS
        if error.code in _TRANSIENT_CODES:
            return FailureKind.TRANSIENT
        if error.code is grpc.StatusCode.ABORTED:
            lowered = [t.lower() for t in texts]
            if any(marker in t for t in lowered for marker in _REFUSED_PROPOSAL):
                return FailureKind.BUSINESS
            return FailureKind.TRANSIENT
        return FailureKind.BUSINESS
    if isinstance(error, (TimeoutError, ConnectionError)):
        return FailureKind.TRANSIENT
    return FailureKind.BUSINESS


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt limit and exponential backoff with full jitter.

    Attributes:
        max_attempts: total attempts including the first (>= 1).
        initial_backoff: cap of the first delay, in seconds.
        max_backoff: ceiling of any delay, in seconds.
        multiplier: growth of the cap per failed attempt.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 10.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("invalid retry policy")

    def backoff_cap(self, failed_attempts: int) -> float:
        """Upper bound of the delay after ``failed_attempts`` failures (1-based)."""
        exponent = max(0, failed_attempts - 1)
        # Bound the exponent so a large attempt count cannot overflow the float.
        return min(self.max_backoff, self.initial_backoff * self.multiplier ** min(exponent, 64))

    def backoff(self, failed_attempts: int, rng: random.Random | None = None) -> float:
        """Delay before the next attempt: uniform in [0, cap] ("full jitter").

        Full jitter spreads the retries of many workers that failed together, so a peer coming
        back is not hit by all of them at the same instant.
        """
        return (rng or random).uniform(0.0, self.backoff_cap(failed_attempts))


async def retry_call(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retry_on: Collection[FailureKind] = (FailureKind.TRANSIENT,),
    classifier: Callable[[BaseException], FailureKind] = classify,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call ``fn`` until it succeeds, fails in a way not in ``retry_on``, or attempts run out.

    Args:
        fn: makes one attempt (for CONFLICT retries it must build a new transaction each time).
        policy: attempt limit and backoff.
        retry_on: the failure kinds worth another attempt.
        classifier: maps an exception to its kind.
        sleep: awaited between attempts (injectable for tests).
        rng: source of jitter.

    Returns:
        ``fn``'s result.

    Raises:
        The last exception when it is not retriable or the attempts are exhausted.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except Exception as error:
            kind = classifier(error)
            if kind not in retry_on or attempt >= policy.max_attempts:
                raise
            delay = policy.backoff(attempt, rng)
            _log.info(
                "fabric call failed (%s, attempt %d/%d), retrying in %.3fs: %s",
                kind.value,
                attempt,
                policy.max_attempts,
                delay,
                error,
            )
            await sleep(delay)
