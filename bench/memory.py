"""RSS of every process a benchmark starts (its stack), sampled while it runs: settled idle, after, peak.

`make bench` runs each benchmark in a child process that starts its own stack (PostgreSQL, Redis,
Envoy, the services, the workers, devnet, the chaincode). A background thread samples the resident
set size of that child and all its descendants every `interval` seconds with psutil. Per process:

- `idle_mb`: the lowest RSS once the process has lived `settle` seconds (start-up done, before or
  between loads: what it holds doing nothing);
- `after_mb`: the last RSS seen before it stopped, i.e. after the benchmark's load;
- `peak_mb`: the highest RSS seen.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import psutil

_MB = 1024 * 1024
# Python entry points of the stack, by the module name on their command line.
_MODULES = (
    "outbox",
    "projector",
    "notifier",
    "chaincode",
    "devnet",
    "services.identity",
    "services.wallet",
    "services.licensing",
    "tests.support.edge_backend",
)


@dataclasses.dataclass
class ProcessMemory:
    """What was seen of one process."""

    pid: int
    label: str
    started: float
    idle: int | None = None
    after: int = 0
    peak: int = 0

    def observe(self, rss: int, now: float, settle: float) -> None:
        self.after = rss
        self.peak = max(self.peak, rss)
        if now - self.started >= settle:
            self.idle = rss if self.idle is None else min(self.idle, rss)

    def as_dict(self) -> dict[str, object]:
        def mb(value: int | None) -> float | None:
            return None if value is None else round(value / _MB, 1)

        return {
            "process": self.label,
            "pid": self.pid,
            "idle_mb": mb(self.idle),
            "after_mb": mb(self.after),
            "peak_mb": mb(self.peak),
        }


def label_of(cmdline: Iterable[str], name: str) -> str:
    """A short name for a process from its command line: the module of `python -m X`, the script
    of `python path/x.py`, else the executable's name (postgres, envoy, redis-server)."""
    args = list(cmdline)
    if "-m" in args[:-1]:
        module = args[args.index("-m") + 1]
        return module.removeprefix("services.").removeprefix("tests.support.")
    scripts = [Path(a).stem for a in args[1:2] if a.endswith(".py")]
    if scripts:
        return scripts[0]
    # A server that retitles itself ("postgres: checkpointer", "redis-server 127.0.0.1:6379")
    # is named by its executable alone, so its processes group into one row.
    exe = Path(args[0].split()[0]).name.rstrip(":") if args and args[0].strip() else name
    return exe or name


class TreeSampler:
    """Samples the RSS of a process tree in a daemon thread until `stop()`."""

    def __init__(self, root_pid: int, interval: float = 0.5, settle: float = 3.0) -> None:
        self._root = root_pid
        self._interval = interval
        self._settle = settle
        self._seen: dict[int, ProcessMemory] = {}
        # Every process once seen is followed until it exits, with its children: a daemonising
        # server (pg_ctl starts PostgreSQL) leaves the tree once its starter exits.
        self._known: dict[int, psutil.Process] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-rss", daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> list[dict[str, object]]:
        """Stop sampling; per process (ordered by label), what was seen."""
        self._done.set()
        if self._thread.ident is not None:  # started (a caller may also sample by hand)
            self._thread.join(timeout=5)
        return [p.as_dict() for p in sorted(self._seen.values(), key=lambda p: (p.label, p.pid))]

    def _loop(self) -> None:
        began = time.monotonic()
        while not self._done.is_set():
            self.sample()
            # Fast while the stack starts: a server that daemonises (pg_ctl's PostgreSQL) is in
            # the tree only for the moment its starter waits for it; once seen it is followed.
            starting = time.monotonic() - began < 30
            self._done.wait(min(self._interval, 0.05) if starting else self._interval)

    def sample(self) -> None:
        """Take one sample of the whole tree (processes may come and go between calls).

        One pass over the process table per sample: who is whose parent and who is in the
        benchmark's session. (Asking psutil for each known process's children walks the whole
        table once per process: about 43 ms of CPU per sample with 67 processes, most of a core
        at the start-up rate, taken from the benchmark being measured.)
        """
        try:
            root = psutil.Process(self._root)
            self._known.setdefault(root.pid, root)
            session = os.getsid(self._root)
        except (psutil.Error, OSError):
            session = None
        children: dict[int, list[psutil.Process]] = {}
        for proc in psutil.process_iter(["ppid"]):
            children.setdefault(proc.info["ppid"], []).append(proc)
            if session is not None and proc.pid not in self._known:
                # A daemonised server (pg_ctl starts PostgreSQL through a shell that exits) is
                # nobody's child any more, but it stays in the benchmark's session.
                with contextlib.suppress(OSError):
                    if os.getsid(proc.pid) == session:
                        self._known[proc.pid] = proc
        pending = list(self._known)
        while pending:
            for child in children.get(pending.pop(), ()):
                if child.pid not in self._known:
                    self._known[child.pid] = child
                    pending.append(child.pid)
        now = time.time()
        for pid, proc in list(self._known.items()):
            if not proc.is_running():
                del self._known[pid]
                continue
            try:
                rss = proc.memory_info().rss
                if rss == 0:
                    # An exited process not yet reaped (a zombie) reads 0: not a figure of its
                    # life (it set a server's idle and after to 0.0 when the stack stopped).
                    continue
                known = self._seen.get(proc.pid)
                if known is None:
                    label = (
                        "bench (load generator)"
                        if proc.pid == self._root
                        else label_of(proc.cmdline(), proc.name())
                    )
                    known = self._seen[proc.pid] = ProcessMemory(proc.pid, label, proc.create_time())
                known.observe(rss, now, self._settle)
            except psutil.Error:
                continue


def by_label(processes: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per label (several PostgreSQL backends are one row): count and the largest figures.

    Processes that never lived long enough to settle (initdb, a shell, a code generator) are left
    out: they are start-up steps, not the stack.
    """
    rows: dict[str, dict[str, object]] = {}
    for proc in processes:
        if proc["idle_mb"] is None:
            continue
        label = str(proc["process"])
        row = rows.setdefault(
            label, {"process": label, "count": 0, "idle_mb": None, "after_mb": 0.0, "peak_mb": 0.0}
        )
        row["count"] = int(row["count"]) + 1  # type: ignore[call-overload]
        for key in ("idle_mb", "after_mb", "peak_mb"):
            value = proc[key]
            if value is not None and (row[key] is None or float(value) > float(row[key])):  # type: ignore[arg-type]
                row[key] = value
    return [rows[k] for k in sorted(rows)]
