"""`make bench` (`python -m bench`): each benchmark runs in its own bounded child, and a hung one is stopped cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devstack.config import REPO_ROOT


def _bench_processes() -> list[int]:
    """Pids of benchmark children (`python -m bench --in-process NAME`) still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--in-process" in argv and b"bench" in argv and str(os.getpid()).encode() not in argv:
            found.append(int(entry.name))
    return found


def test_unknown_benchmark_names_the_known_ones() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "nope"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0 and "known:" in run.stderr and "fabric_client" in run.stderr


def test_a_benchmark_past_its_time_is_interrupted_and_cleans_up() -> None:
    before = set(_bench_processes())
    # devnet_bench with its defaults starts a devnet and runs 4,000 transactions: far longer than 5 s.
    run = subprocess.run(
        [sys.executable, "-m", "bench", "devnet"],
        cwd=REPO_ROOT,
        env={**os.environ, "GX_BENCH_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 1
    assert "still running after 5s" in run.stdout and "devnet_bench: exit 124" in run.stdout
    assert "bench: failed: devnet_bench" in run.stdout
    # The child and everything in its process group are gone: nothing keeps running after make bench.
    assert set(_bench_processes()) - before == set()
