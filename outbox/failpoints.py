"""TEST-ONLY crash points for the fault tests; inert unless GX_OUTBOX_FAILPOINT is set."""

from __future__ import annotations

import logging
import os
import signal

_LOG = logging.getLogger(__name__)

# The environment variable naming the crash point. It is read per call (not at import) so a
# test can start a worker process with it; production never sets it, and then every
# `hit()` is a dictionary lookup that returns at once.
ENV_VAR = "GX_OUTBOX_FAILPOINT"

# The points the worker passes, in the order one command passes them:
# - `after_endorse`: the transaction is endorsed, but neither sent to the orderer nor stored;
# - `after_submit`: the envelope was submitted but is not stored yet (the command is still
#   PENDING without a transaction: the next attempt is answered as a replay);
# - `after_store`: submitted, and its id and signed envelope stored (status SUBMITTED), but its
#   commit status was not read yet.
POINTS = frozenset({"after_endorse", "after_submit", "after_store"})


def hit(point: str) -> None:
    """Kill this process with SIGKILL if the test asked to crash at `point`.

    SIGKILL (not an exception, not SIGTERM) is the point: nothing in the worker gets to
    clean up, exactly like a node that loses power, so the fault tests see what a real
    crash leaves behind. The variable may name a point once (`after_submit`) or with a
    count (`after_submit:3`, crash on the third pass) so a test can let a few commands
    through first.
    """
    wanted = os.environ.get(ENV_VAR)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    remaining = int(count or "1") - 1
    if remaining > 0:
        os.environ[ENV_VAR] = f"{name}:{remaining}"
        return
    _LOG.warning("failpoint %s reached: killing the worker (test only)", point)
    os.kill(os.getpid(), signal.SIGKILL)
