"""How many CPUs this process may really use: its cgroup quota and affinity, not the node's cores.

In a container `os.cpu_count()` reports the node (say 32 cores) while the pod may be limited to
one CPU. Sizing Argon2 concurrency by the node would let 32 hashes of 19 MiB each run at once on
one CPU's worth of time: every login slows down together and memory balloons.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

_CGROUP_ROOT = Path("/sys/fs/cgroup")


def _quota_v2(root: Path) -> float | None:
    # cgroup v2: "max 100000" (no limit) or "<quota> <period>" in microseconds.
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def _quota_v1(root: Path) -> float | None:
    # cgroup v1: cpu.cfs_quota_us is -1 when unlimited.
    for base in (root / "cpu", root / "cpu,cpuacct"):
        try:
            quota = int((base / "cpu.cfs_quota_us").read_text())
            period = int((base / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota > 0 and period > 0:
            return quota / period
    return None


def _affinity() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def available_cpus(cgroup_root: Path = _CGROUP_ROOT) -> int:
    """The CPUs this process can use: the smallest of its cgroup CPU quota (rounded up),
    its scheduler affinity and the machine's count; at least 1.

    Args:
        cgroup_root: Where the cgroup filesystem is mounted (tests pass a directory of their own).
    """
    candidates: list[float] = [float(n) for n in (os.cpu_count(), _affinity()) if n]
    quota = _quota_v2(cgroup_root)
    if quota is None:
        quota = _quota_v1(cgroup_root)
    if quota is not None:
        candidates.append(quota)
    return max(1, math.ceil(min(candidates))) if candidates else 1
