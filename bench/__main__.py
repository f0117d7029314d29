"""`python -m bench` (`make bench`): run every `bench/*_bench.py` module's `main()` in turn and print their figures.

`python -m bench edge fabric_client` runs only the named ones. Each module owns its output
(one JSON line or a table); a failing benchmark is reported and the others still run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
import time
import traceback
from pathlib import Path

_HERE = Path(__file__).resolve().parent


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


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks (all by default); return non-zero if any failed."""
    selected = list(sys.argv[1:] if argv is None else argv)
    sys.path[:0] = [str(_HERE.parent), str(_HERE.parent / "gen" / "python")]
    failures = 0
    for path in _modules(selected):
        print(f"== {path.stem} ==", flush=True)
        started = time.monotonic()
        try:
            module = _load(path)
            entry = getattr(module, "main", None)
            if entry is None:
                print(f"   {path.name} has no main(); skipped", flush=True)
                continue
            code = _run_main(entry)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
        print(f"== {path.stem}: exit {code} in {time.monotonic() - started:.1f}s ==\n", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
