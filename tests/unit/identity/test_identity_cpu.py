"""Argon2 concurrency is sized to the CPUs the process may use (cgroup quota), not the node's cores."""

from __future__ import annotations

import os
from pathlib import Path

from services.identity.cpu import available_cpus
from services.identity.passwords import PasswordHashing


def _node() -> int:
    return min(os.cpu_count() or 1, len(os.sched_getaffinity(0)))


def test_a_cgroup_v2_quota_below_the_node_wins(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a CPU
    assert available_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: two threads may run
    assert available_cpus(tmp_path) == min(2, _node())


def test_no_quota_means_the_affinity_and_the_node(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert available_cpus(tmp_path) == _node()
    assert available_cpus(tmp_path / "missing") == _node()


def test_a_cgroup_v1_quota_is_read_too(tmp_path: Path) -> None:
    v1 = tmp_path / "cpu,cpuacct"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert available_cpus(tmp_path) == 1
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")  # unlimited
    assert available_cpus(tmp_path) == _node()


def test_hashing_takes_the_configured_bound_or_the_process_limit() -> None:
    assert PasswordHashing(max_concurrent=3).max_concurrent == 3
    assert PasswordHashing().max_concurrent == available_cpus()
