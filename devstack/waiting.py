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
) -> None:
    """Poll `condition` until it is true or `timeout` seconds pass.

    Args:
        condition: Returns True once the awaited state holds. Exceptions count as "not yet".
        timeout: The bound, in seconds.
        what: Names the awaited state in the timeout message.
        interval: Pause between polls; it grows slowly so long waits do not spin.
        abort: Returns a reason to stop waiting early (for example "the process exited"),
            or None to keep waiting.

    Raises:
        HealthTimeout: The condition did not hold in time, or `abort` gave a reason.
    """
    deadline = time.monotonic() + timeout
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
        if time.monotonic() >= deadline:
            raise HealthTimeout(f"{what}: not ready after {timeout:.0f}s")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
