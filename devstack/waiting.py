"""Bounded waiting on a real condition: every wait in the stack has a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

from devstack.errors import HealthTimeout


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    abort: Callable[[], str | None] | None = None,
    on_wait: Callable[[float], None] | None = None,
    report_every: float = 5.0,
) -> None:
    """Poll `condition` until it is true or `timeout` seconds pass.

    Args:
        condition: Returns True once the awaited state holds. Exceptions count as "not yet".
        timeout: The bound, in seconds.
        what: Names the awaited state in the timeout message.
        interval: Pause between polls; it grows slowly so long waits do not spin.
        abort: Returns a reason to stop waiting early (for example "the process exited"),
            or None to keep waiting.
        on_wait: Called with the seconds waited so far, every `report_every` seconds, so a
            person watching sees that a slow part is still being waited on.
        report_every: Interval of `on_wait` calls.

    Raises:
        HealthTimeout: The condition did not hold in time, or `abort` gave a reason.
    """
    started = time.monotonic()
    deadline = started + timeout
    next_report = started + report_every
    pause = interval
    while True:
        try:
            if condition():
                return
        except Exception:  # a probe that raises simply is not ready yet
            pass
        if abort is not None:
            reason = abort()
            if reason:
                raise HealthTimeout(f"{what}: {reason}")
        now = time.monotonic()
        if now >= deadline:
            raise HealthTimeout(f"{what}: not ready after {timeout:.0f}s")
        if on_wait is not None and now >= next_report:
            on_wait(now - started)
            next_report = now + report_every
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
