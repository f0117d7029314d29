"""The wallet's balance and history reads through Envoy, with the whole machine accounted per call.

`wallet_bench` gives each server's CPU per request; this adds what the rest of the machine spends
at the same time: the load generator (this process), the kernel's share (/proc/stat: system,
softirq) and the idle time, and repeats balance and history back to back at one or more
concurrencies. On the 2-core machine it tells whether a read is CPU-bound (no idle left: only less
CPU per read raises the rate) or latency-bound (idle cores: the rate rises with requests in flight).

    .venv/bin/python bench/read_machine.py                              # 3 rounds, 4 s, 16 in flight
    .venv/bin/python bench/read_machine.py --rounds 2 --concurrency 16 32
    .venv/bin/python bench/read_machine.py --paths history --rounds 1

`rest_ms` is the machine's busy time per call that none of the listed processes was charged
(other work on the machine, kernel threads). Output: one JSON line per path, round and concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import wallet_bench  # noqa: E402
from bench.stats import cpu_seconds  # noqa: E402

_PATHS = {"balance": "/v1/wallets/me", "history": "/v1/wallets/me/transactions"}


@dataclass(frozen=True)
class MachineTimes:
    """/proc/stat's first line in seconds: user (with nice), system, softirq, idle (with iowait)."""

    user: float
    system: float
    softirq: float
    idle: float

    @property
    def busy(self) -> float:
        return self.user + self.system + self.softirq


def parse_proc_stat(text: str, ticks_per_second: int) -> MachineTimes:
    """The machine-wide CPU times from the text of /proc/stat (the `cpu` line: all cores)."""
    fields = [int(x) for x in text.splitlines()[0].split()[1:8]]
    user, nice, system, idle, iowait, irq, softirq = fields
    return MachineTimes(
        user=(user + nice) / ticks_per_second,
        system=(system + irq) / ticks_per_second,
        softirq=softirq / ticks_per_second,
        idle=(idle + iowait) / ticks_per_second,
    )


def per_call(
    before: MachineTimes,
    after: MachineTimes,
    processes_before: dict[str, float],
    processes_after: dict[str, float],
    calls: int,
) -> dict[str, float]:
    """Milliseconds per call: each process, the machine's busy split and idle, and the busy time no
    listed process was charged."""
    calls = max(1, calls)
    out = {
        f"{name}_ms": (processes_after[name] - processes_before[name]) * 1e3 / calls
        for name in processes_before
    }
    busy = (after.busy - before.busy) * 1e3 / calls
    out.update(
        machine_busy_ms=busy,
        machine_system_ms=(after.system - before.system) * 1e3 / calls,
        machine_softirq_ms=(after.softirq - before.softirq) * 1e3 / calls,
        machine_idle_ms=(after.idle - before.idle) * 1e3 / calls,
        rest_ms=busy - sum(out.values()),
    )
    return {name: round(value, 3) for name, value in out.items()}


def _machine() -> MachineTimes:
    return parse_proc_stat(Path("/proc/stat").read_text(), os.sysconf("SC_CLK_TCK"))


def _processes(pids: dict[str, int]) -> dict[str, float]:
    return {
        name: wallet_bench._tree_cpu_seconds(pid) if name == "postgres" else cpu_seconds(pid)
        for name, pid in pids.items()
    }


async def _measure(
    call: Callable[[], Awaitable[object]], seconds: float, concurrency: int, pids: dict[str, int]
) -> dict[str, float]:
    calls = 0

    async def worker(deadline: float) -> None:
        nonlocal calls
        while time.monotonic() < deadline:
            await call()
            calls += 1

    await asyncio.gather(*(worker(time.monotonic() + min(1.0, seconds / 4)) for _ in range(concurrency)))
    calls = 0
    machine, processes, started = _machine(), _processes(pids), time.monotonic()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    figures = per_call(machine, _machine(), processes, _processes(pids), calls)
    return {"requests_per_s": round(calls / elapsed, 1), **figures}


async def _run(args: argparse.Namespace, stack: object, pids: dict[str, int]) -> None:
    http = wallet_bench._Http(stack.edge_address)  # type: ignore[attr-defined]
    try:
        users = await wallet_bench._users(http, 17)
        await wallet_bench._seed(stack.database_url, [u for u, _ in users])  # type: ignore[attr-defined]
        tokens = itertools.cycle([token for _, token in users[1:]])
        for round_number in range(args.rounds):
            for concurrency in args.concurrency:
                for name in args.paths:
                    path = _PATHS[name]

                    async def call(path: str = path) -> object:
                        return await http.request("GET", path, next(tokens))

                    figures = await _measure(call, args.seconds, concurrency, pids)
                    line = {"path": name, "round": round_number, "concurrency": concurrency, **figures}
                    print(json.dumps({**line, "load_average_1m": round(os.getloadavg()[0], 2)}), flush=True)
    finally:
        await http.close()


def main(argv: list[str] | None = None) -> int:
    """Start the stack on free ports, measure balance and history back to back, print JSON lines."""
    parser = argparse.ArgumentParser(prog="read_machine", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="measured time per path (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="balance/history pairs (default 3)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16], help="requests in flight (16)")
    parser.add_argument(
        "--paths", nargs="+", choices=list(_PATHS), default=list(_PATHS), help="reads (both by default)"
    )
    args = parser.parse_args(argv)
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]
    from tests.support.stack import running_edge_stack

    with running_edge_stack(parts=("postgres", "redis", "migrations", "identity", "wallet", "edge")) as stack:
        pids = {
            "generator": os.getpid(),
            **wallet_bench.server_pids(stack, {"wallet": "wallet", "edge": "envoy"}),
        }
        asyncio.run(_run(args, stack, pids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
