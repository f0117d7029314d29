"""`python -m bench` (`make bench`): run every `bench/*_bench.py` module's `main()` in turn and print their figures.

`python -m bench edge fabric_client` runs only the named ones. Each module owns its output
(one JSON line or a table); a failing benchmark is reported and the others still run.

Every benchmark runs with its own defaults (none needs arguments: the ones that need a ledger or a
stack start their own) in a child process of its own, bounded by `GX_BENCH_TIMEOUT` seconds
(default 900): past it the child gets SIGINT, so its context managers stop what it started, then
SIGKILL if it does not exit. One benchmark's crash or hang thus never blocks the next.

At the end it prints one summary table (`bench/summary.py`: each figure with its ratio to the
ceiling or raw rate measured in the same run) and the RSS of every process each benchmark started
(`bench/memory.py`), and writes the JSON lines the benchmarks printed, each tagged with
`bench` and `run` and otherwise unchanged, plus the RSS and the table, to
`build/bench/<UTC timestamp>.jsonl`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO

_HERE = Path(__file__).resolve().parent
_DEFAULT_TIMEOUT = 900.0
# How long a benchmark may take to clean up after SIGINT before it is killed.
_GRACE = 60.0
_CHILD_FLAG = "--in-process"


def _modules(selected: list[str]) -> list[Path]:
    found = sorted(_HERE.glob("*_bench.py"))
    if not selected:
        return found
    by_name = {p.stem.removesuffix("_bench"): p for p in found}
    unknown = [s for s in selected if s.removesuffix("_bench") not in by_name]
    if unknown:
        raise SystemExit(
            f"bench: unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(sorted(by_name))}"
        )
    return [by_name[s.removesuffix("_bench")] for s in selected]


def _load(path: Path) -> object:
    # Loaded by path so the modules run the same whether bench/ is a package or a plain folder.
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _run_main(main: object) -> int:
    # Each benchmark parses its own arguments; give it an empty command line, not ours.
    saved = sys.argv
    sys.argv = [saved[0]]
    try:
        params = inspect.signature(main).parameters  # type: ignore[arg-type]
        result = main([]) if params else main()  # type: ignore[operator]
        if inspect.isawaitable(result):
            result = asyncio.run(result)  # type: ignore[arg-type]
        return int(result or 0)
    finally:
        sys.argv = saved


def _run_one(path: Path) -> int:
    """Run one benchmark module's main() here, in this process."""
    try:
        module = _load(path)
        entry = getattr(module, "main", None)
        if entry is None:
            print(f"   {path.name} has no main()", flush=True)
            return 1
        return _run_main(entry)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        print(f"   {path.stem} interrupted", flush=True)
        return 130
    except Exception:
        traceback.print_exc()
        return 1


@dataclasses.dataclass
class _Outcome:
    code: int
    output: list[str]
    memory: list[dict[str, object]]


def _pump(stream: IO[str], into: list[str]) -> None:
    # Echo the child's output as it comes (the operator watches it) and keep it for the summary.
    for line in stream:
        sys.stdout.write(line)
        sys.stdout.flush()
        into.append(line)


def _run_child(path: Path, timeout: float) -> _Outcome:
    """Run one benchmark in a child process (its own process group), bounded by `timeout` seconds,
    keeping its output and sampling the RSS of every process it starts."""
    from bench.memory import TreeSampler

    child = subprocess.Popen(
        [sys.executable, "-m", "bench", _CHILD_FLAG, path.stem],
        cwd=_HERE.parent,
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []
    assert child.stdout is not None
    pump = threading.Thread(target=_pump, args=(child.stdout, output), daemon=True)
    pump.start()
    sampler = TreeSampler(child.pid).start()
    try:
        code = _wait(child, path, timeout)
    finally:
        memory = sampler.stop()
        pump.join(timeout=5)
    return _Outcome(code, output, memory)


def _wait(child: subprocess.Popen[str], path: Path, timeout: float) -> int:
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(
            f"   {path.stem}: still running after {timeout:.0f}s (GX_BENCH_TIMEOUT); interrupting", flush=True
        )
        os.killpg(child.pid, signal.SIGINT)
        try:
            child.wait(timeout=_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        return 124
    except KeyboardInterrupt:
        os.killpg(child.pid, signal.SIGINT)
        child.wait(timeout=_GRACE)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks (all by default); return non-zero if any failed."""
    selected = list(sys.argv[1:] if argv is None else argv)
    sys.path[:0] = [str(_HERE.parent), str(_HERE.parent / "gen" / "python")]
    if selected[:1] == [_CHILD_FLAG]:
        return _run_one(_modules(selected[1:])[0])
    timeout = float(os.environ.get("GX_BENCH_TIMEOUT") or _DEFAULT_TIMEOUT)
    from bench import memory, summary

    failed = []
    records: list[summary.Record] = []
    rss: dict[str, list[dict[str, object]]] = {}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_path = _HERE.parent / "build" / "bench" / f"{stamp}.jsonl"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w") as out:
        for path in _modules(selected):
            name = path.stem.removesuffix("_bench")
            print(f"== {path.stem} ==", flush=True)
            started = time.monotonic()
            outcome = _run_child(path, timeout)
            print(
                f"== {path.stem}: exit {outcome.code} in {time.monotonic() - started:.1f}s ==\n", flush=True
            )
            if outcome.code != 0:
                failed.append(path.stem)
            rss[name] = memory.by_label(outcome.memory)
            # Each line as the benchmark printed it (its keys unchanged), tagged with the
            # benchmark and the run, then the RSS it saw: runs compare over time.
            for obj in summary.parse_json_lines("".join(outcome.output)):
                records.append((name, obj))
                out.write(json.dumps({"bench": name, "run": stamp, **obj}) + "\n")
            out.write(json.dumps({"bench": name, "run": stamp, "rss_mb": outcome.memory}) + "\n")
            out.flush()
        table = summary.rows(records)
        out.write(
            json.dumps({"bench": "summary", "run": stamp, "rows": [dataclasses.asdict(r) for r in table]})
            + "\n"
        )
    print(f"== summary (load average {os.getloadavg()[0]:.2f}; JSON lines in {out_path}) ==", flush=True)
    print(summary.render(table, rss), flush=True)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
