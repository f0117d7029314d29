"""Background processes of the stack: start with a log and a pid file, check liveness, stop by pid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Above the services' own drain time (GX shutdown_grace_seconds, 10 s by default), so a clean
# shutdown is never cut short by SIGKILL.
_GRACE_SECONDS = 15.0


@dataclass(frozen=True)
class PidRecord:
    """What a pid file holds: enough to stop the right process later, and only it.

    Attributes:
        pid: The process id.
        start_ticks: The process start time from /proc (clock ticks since boot). A pid that
            was reused by an unrelated process has another start time, so it is never killed.
        argv: The command line, for `status`.
    """

    pid: int
    start_ticks: int | None
    argv: list[str]


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """Return the start time of `pid` in clock ticks since boot, or None if it is gone."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def is_alive(pid: int) -> bool:
    """Tell whether `pid` runs. A zombie counts as dead.

    Orphans linger as zombies for about a second in some sandboxes, and `kill -0` succeeds on
    a zombie, so /proc's state letter is the real answer.
    """
    _reap(pid)
    fields = _proc_stat(pid)
    if fields is None:
        return False
    return fields[0] not in ("Z", "X")


def _reap(pid: int) -> None:
    # Collect our own exited children so they do not stay zombies; other pids are not ours to wait on.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def record_matches(record: PidRecord) -> bool:
    """Tell whether the process a pid file describes still runs (same pid, same start time)."""
    if not is_alive(record.pid):
        return False
    if record.start_ticks is None:
        return True
    return start_ticks(record.pid) == record.start_ticks


def write_pid_file(path: Path, record: PidRecord) -> None:
    """Write `record` atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": record.pid, "start_ticks": record.start_ticks, "argv": record.argv}))
    tmp.replace(path)


def read_pid_file(path: Path) -> PidRecord | None:
    """Read a pid file, or return None if there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text())
        return PidRecord(
            pid=int(data["pid"]), start_ticks=data.get("start_ticks"), argv=list(data.get("argv", []))
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    pid_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> PidRecord:
    """Start `argv` in the background in its own session, output appended to `log_path`.

    The new session makes the process a group leader, so `stop` can signal it and any
    children it forked together, and a Ctrl-C in the terminal that ran `gx dev up` does
    not reach it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(  # argv is built by the launcher, never from user input
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    record = PidRecord(pid=proc.pid, start_ticks=start_ticks(proc.pid), argv=list(argv))
    write_pid_file(pid_path, record)
    return record


def _signal(record: PidRecord, sig: signal.Signals) -> None:
    try:
        # Signal the whole group when the process leads one (we started it with a new session).
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)
    except ProcessLookupError:
        pass


def stop(record: PidRecord, *, grace: float = _GRACE_SECONDS) -> bool:
    """Stop the process: SIGTERM, then SIGKILL if it has not exited after `grace` seconds.

    Returns:
        True if a running process was stopped, False if it was not running (or the pid now
        belongs to another process, which is left alone).
    """
    if not record_matches(record):
        return False
    _signal(record, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not is_alive(record.pid):
            return True
        time.sleep(0.05)
    _signal(record, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and is_alive(record.pid):
        time.sleep(0.05)
    return True


def tail(path: Path, lines: int = 20) -> str:
    """Return the last `lines` lines of a log file (empty if it does not exist)."""
    try:
        data = path.read_bytes()[-16384:]
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
