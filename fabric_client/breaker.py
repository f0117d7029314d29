"""A circuit breaker (closed / open / half-open) guarding every call to one Fabric peer."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)


class BreakerState(enum.Enum):
    """Where the breaker is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(Exception):
    """Raised inside the client when the breaker refuses a call; surfaced as the call's typed error."""


class CircuitBreaker:
    """Stops calling a peer that keeps failing, then lets a few trial calls probe it.

    Closed: calls pass; ``failure_threshold`` consecutive failures open it. Open: calls are refused at
    once until ``reset_timeout`` has passed, then it turns half-open. Half-open: up to
    ``half_open_max_calls`` trial calls pass; one success closes it, one failure re-opens it.

    Only failures that say the peer is unreachable or overloaded should be recorded as failures; an
    answer from the peer (even a chaincode rejection) proves it is up and counts as a success.
    The breaker is not thread-safe; use it from one event loop.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 10.0,
        half_open_max_calls: int = 1,
        clock: Callable[[], float] = time.monotonic,
        on_state_change: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        """Create a closed breaker.

        Args:
            name: what it guards (the peer address), for logs and metrics.
            failure_threshold: consecutive failures that open the breaker.
            reset_timeout: seconds to stay open before allowing trial calls.
            half_open_max_calls: trial calls allowed at once while half-open.
            clock: monotonic clock in seconds (injectable for tests).
            on_state_change: called with (name, new state) on every transition.
        """
        if failure_threshold < 1 or half_open_max_calls < 1 or reset_timeout < 0:
            raise ValueError("invalid circuit breaker limits")
        self.name = name
        self._threshold = failure_threshold
        self._reset_timeout = reset_timeout
        self._half_open_max = half_open_max_calls
        self._clock = clock
        self._listeners: list[Callable[[str, BreakerState], None]] = []
        if on_state_change is not None:
            self._listeners.append(on_state_change)
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose timeout passed reports half-open)."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self._reset_timeout:
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    @property
    def retry_after(self) -> float:
        """Seconds until an open breaker allows a trial call (0 when not open)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._reset_timeout - (self._clock() - self._opened_at))

    def add_listener(self, listener: Callable[[str, BreakerState], None]) -> None:
        """Also call ``listener(name, new_state)`` on every transition (once, however often added)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def allow(self) -> bool:
        """Ask to make a call; a True answer must be followed by exactly one ``record_*``."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._trials < self._half_open_max:
            self._trials += 1
            return True
        return False

    def record_success(self) -> None:
        """The call reached a working peer."""
        self._failures = 0
        if self._state is BreakerState.HALF_OPEN:
            self._transition(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """The call failed in a way that says the peer is down or overloaded."""
        if self._state is BreakerState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._state is BreakerState.CLOSED and self._failures >= self._threshold:
            self._open()

    def record_ignored(self) -> None:
        """The call ended without telling anything about the peer (e.g. the caller cancelled it)."""
        if self._state is BreakerState.HALF_OPEN and self._trials > 0:
            self._trials -= 1

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._transition(BreakerState.OPEN)

    def _transition(self, new: BreakerState) -> None:
        if new is self._state:
            return
        _log.warning("fabric circuit breaker %s: %s -> %s", self.name, self._state.value, new.value)
        self._state = new
        self._trials = 0
        if new is BreakerState.CLOSED:
            self._failures = 0
        for listener in self._listeners:
            listener(self.name, new)
