"""The wallet bench's CPU of a process tree (PostgreSQL's postmaster and its backends) counts the children."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.stats import cpu_seconds
from bench.wallet_bench import _tree_cpu_seconds


def test_a_tree_counts_the_cpu_of_its_live_children() -> None:
    # A child that burns about 0.3 s of CPU, then waits to be read.
    burn = (
        "import time,sys\nend=time.process_time()+0.3\nwhile time.process_time()<end: pass\nsys.stdin.read()"
    )
    child = subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE)
    try:
        give_up = time.monotonic() + 60
        while cpu_seconds(child.pid) < 0.3 and time.monotonic() < give_up:
            time.sleep(0.02)
        # Our own CPU read first: it only grows, so the tree read after it holds at least the
        # child's 0.3 s more (read the other way round, our CPU spent between the two reads was
        # subtracted from the child's and the test failed by a clock tick). 1e-6: float sums.
        own = cpu_seconds(os.getpid())
        assert _tree_cpu_seconds(os.getpid()) - own >= 0.3 - 1e-6
    finally:
        child.communicate(b"")


def test_no_process_is_no_cpu() -> None:
    assert _tree_cpu_seconds(None) == 0.0
