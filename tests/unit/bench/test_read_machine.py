"""bench/read_machine: the machine's times from /proc/stat and the per-call split."""

from __future__ import annotations

from bench import read_machine

_STAT = "cpu  1000 10 300 5000 40 5 60 0 0 0\ncpu0 500 5 150 2500 20 2 30 0 0 0\n"


def test_proc_stat_is_read_from_the_all_cores_line_in_seconds() -> None:
    times = read_machine.parse_proc_stat(_STAT, 100)
    assert times == read_machine.MachineTimes(user=10.1, system=3.05, softirq=0.6, idle=50.4)
    assert abs(times.busy - 13.75) < 1e-9


def test_per_call_splits_the_busy_time_and_names_what_no_process_was_charged() -> None:
    before = read_machine.MachineTimes(user=10.0, system=1.0, softirq=0.5, idle=20.0)
    after = read_machine.MachineTimes(user=11.0, system=1.5, softirq=0.6, idle=20.4)
    figures = read_machine.per_call(
        before, after, {"wallet": 2.0, "envoy": 3.0}, {"wallet": 2.4, "envoy": 3.5}, 1000
    )
    assert figures["wallet_ms"] == 0.4 and figures["envoy_ms"] == 0.5
    assert figures["machine_busy_ms"] == 1.6 and figures["machine_idle_ms"] == 0.4
    assert figures["machine_system_ms"] == 0.5 and figures["machine_softirq_ms"] == 0.1
    assert figures["rest_ms"] == 0.7
    # No call at all is not a division by zero.
    assert read_machine.per_call(before, before, {"wallet": 1.0}, {"wallet": 1.0}, 0)["wallet_ms"] == 0.0
