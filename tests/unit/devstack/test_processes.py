"""Background processes: pid files, liveness that ignores zombies, stop by pid with a grace period."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from devstack import processes
from devstack.errors import HealthTimeout, PortTakenError
from devstack.ports import port_in_use
from devstack.waiting import wait_until


def _spawn(tmp_path: Path, code: str) -> processes.PidRecord:
    return processes.spawn(
        [sys.executable, "-c", code], log_path=tmp_path / "p.log", pid_path=tmp_path / "p.pid"
    )


def test_spawn_writes_a_pid_file_and_stop_ends_the_process(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; print('hello', flush=True); time.sleep(60)")
    try:
        assert processes.read_pid_file(tmp_path / "p.pid") == record
        assert processes.record_matches(record)
        wait_until(lambda: "hello" in (tmp_path / "p.log").read_text(), timeout=10, what="output")
    finally:
        assert processes.stop(record, grace=5)
    assert not processes.is_alive(record.pid)
    assert not processes.stop(record)  # already stopped: nothing to do


def test_a_process_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    record = _spawn(tmp_path, code)
    wait_until(lambda: "ready" in (tmp_path / "p.log").read_text(), timeout=10, what="ready")
    assert processes.stop(record, grace=0.5)
    assert not processes.is_alive(record.pid)


def test_a_reused_pid_is_never_signalled(tmp_path: Path) -> None:
    record = _spawn(tmp_path, "import time; time.sleep(60)")
    try:
        stale = processes.PidRecord(
            pid=record.pid, start_ticks=(record.start_ticks or 0) + 1, argv=record.argv
        )
        assert not processes.record_matches(stale)
        assert not processes.stop(stale)
        assert processes.is_alive(record.pid)
    finally:
        processes.stop(record, grace=5)


def test_wait_until_is_bounded_and_stops_early_on_abort() -> None:
    with pytest.raises(HealthTimeout, match="thing: not ready"):
        wait_until(lambda: False, timeout=0.2, what="thing")
    with pytest.raises(HealthTimeout, match="exited"):
        wait_until(lambda: False, timeout=30, what="thing", abort=lambda: "exited")


def test_port_in_use_sees_a_bound_port_and_the_message_names_the_variable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
    assert not port_in_use("127.0.0.1", port)
    message = str(PortTakenError("edge", "127.0.0.1", 8080, "GX_EDGE_PORT"))
    assert message == "edge: port 127.0.0.1:8080 is already in use; set GX_EDGE_PORT to move it"
