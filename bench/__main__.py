"""`python -m bench` (`make bench`): run every `bench/*_bench.py` module's `main()` in turn and print their figures.

`python -m bench edge fabric_client` runs only the named ones. Each module owns its output
(one JSON line or a table); a failing benchmark is reported and the others still run.

Every benchmark runs with its own defaults (none needs arguments: the ones that need a ledger or a
stack start their own) in a child process of its own, bounded by `GX_BENCH_TIMEOUT` seconds
(default 900): past it the child gets SIGINT, so its context managers stop what it started, then
SIGKILL if it does not exit. One benchmark's crash or hang thus never blocks the next.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

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


def _run_child(path: Path, timeout: float) -> int:
    """Run one benchmark in a child process (its own process group), bounded by `timeout` seconds."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench", _CHILD_FLAG, path.stem],
        cwd=_HERE.parent,
        start_new_session=True,
    )
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
    failed = []
    for path in _modules(selected):
        print(f"== {path.stem} ==", flush=True)
        started = time.monotonic()
        code = _run_child(path, timeout)
        print(f"== {path.stem}: exit {code} in {time.monotonic() - started:.1f}s ==\n", flush=True)
        if code != 0:
            failed.append(path.stem)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
