"""The wallet reads' ratio to the edge ceiling, measured in alternating windows so both see the same machine.

`edge` and `wallet` measure the ceiling and the reads a minute or more apart. On this shared 2-core
VM the machine's speed drifts over that time (the same ceiling measured 3,221-4,490/s in
back-to-back runs of `python -m bench edge wallet`), and the ratio drifts with it: history read
0.53-0.66 in four such runs of one tree. Here both stacks run at once and take turns: the
ceiling (the stand-in identity behind its own Envoy, 8 in flight, as `edge` measures it), then
the balance and the history reads through the whole stack (16 in flight, as `wallet`), in short
windows, round after round. A round's ratio divides its read by its own ceiling; the figure is
the median over the rounds, with the lowest and highest beside it. The stack that is not being
measured sits idle.

The page ceiling: a second stand-in behind its own Envoy answers the history read's route with a
fixed page of the same fields and lengths (`tests.support.edge_backend.history_page`), 8 in
flight like the ceiling. Against it the history read is compared with a no-op that returns what
it returns, so what Envoy spends turning a 20-row page into JSON counts on both sides and the ratio
(`page_ratio_*`) is what the wallet's read itself costs. It adds a figure; the goal's ratio stays
the one against the ceiling. The run stops if the two pages differ in shape (keys, or length by
more than 2%).

    .venv/bin/python -m bench interleaved      # or: .venv/bin/python bench/interleaved_bench.py [--rounds 7 --seconds 2]

Output: one JSON line per read (`path` `*_interleaved`, `ratio_median`, `ratio_min`,
`ratio_max`, the medians of its rate and of the ceiling), and one per round.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import edge_bench, wallet_bench  # noqa: E402

# Requests in flight, as the two benchmarks measure them: the ceiling at edge_bench's default,
# the reads at wallet_bench's.
_CEILING_IN_FLIGHT = 8
_READS_IN_FLIGHT = 16
_READS = {"balance": "/v1/wallets/me", "history": "/v1/wallets/me/transactions"}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="interleaved_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="ceiling/balance/history rounds (default 7)")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured time per window (default 2)")
    return parser.parse_args(argv)


def ratios(
    rounds: list[dict[str, float]], read: str, ceiling: str = "ceiling", prefix: str = "ratio"
) -> dict[str, float]:
    """The median, lowest and highest of `read`'s per-round ratio to the same round's `ceiling`."""
    per_round = [r[read] / r[ceiling] for r in rounds if r[ceiling] > 0]
    if not per_round:
        return {}
    return {
        f"{prefix}_median": round(statistics.median(per_round), 3),
        f"{prefix}_min": round(min(per_round), 3),
        f"{prefix}_max": round(max(per_round), 3),
    }


def same_shape(real: bytes, stand_in: bytes) -> str | None:
    """Why two history pages (REST JSON) would not cost Envoy the same, or None: the same number
    of entries with the same keys, and lengths within 2%."""
    mine, theirs = json.loads(real), json.loads(stand_in)
    rows, other_rows = mine.get("transactions", []), theirs.get("transactions", [])
    if len(rows) != len(other_rows):
        return f"{len(rows)} entries against {len(other_rows)}"
    if [sorted(r) for r in rows] != [sorted(r) for r in other_rows]:
        return "the entries' keys differ"
    if abs(len(real) - len(stand_in)) > 0.02 * len(real):
        return f"{len(real)} bytes against {len(stand_in)}"
    return None


async def _run(
    args: argparse.Namespace,
    ceiling_edge: str,
    ceiling_token: str,
    page_edge: str,
    page_token: str,
    stack: object,
) -> list[dict[str, object]]:
    http = wallet_bench._Http(stack.edge_address)  # type: ignore[attr-defined]
    ceiling = edge_bench._KeepAlive(ceiling_edge, f"/v1/users/{edge_bench._USER_ID}", ceiling_token)
    page_ceiling = edge_bench._KeepAlive(page_edge, _READS["history"], page_token)
    try:
        users = await wallet_bench._users(http, _READS_IN_FLIGHT)
        await wallet_bench._seed(stack.database_url, [u for u, _ in users])  # type: ignore[attr-defined]
        turn = itertools.cycle(users)
        differs = same_shape(
            await http.request("GET", _READS["history"], users[0][1]), await page_ceiling.get()
        )
        if differs is not None:
            raise RuntimeError(f"the page ceiling's page is not the history read's: {differs}")

        def reader(path: str) -> Callable[[], Awaitable[None]]:
            async def read() -> None:
                _, token = next(turn)
                await http.request("GET", path, token)

            return read

        rounds: list[dict[str, float]] = []
        lines: list[dict[str, object]] = []
        pages_before = wallet_bench.history_pages(stack)
        for number in range(args.rounds):
            measured = {
                "ceiling": await edge_bench._measure(
                    "ceiling", ceiling.get, args.seconds, _CEILING_IN_FLIGHT
                ),
                "page_ceiling": await edge_bench._measure(
                    "page_ceiling", page_ceiling.get, args.seconds, _CEILING_IN_FLIGHT
                ),
            }
            for read, path in _READS.items():
                measured[read] = await wallet_bench._measure(
                    read, reader(path), args.seconds, _READS_IN_FLIGHT, {}
                )
            errors = sum(int(str(m["errors"])) for m in measured.values())
            if errors:
                raise RuntimeError(f"round {number}: {errors} failed requests")
            rates = {name: float(str(m["requests_per_s"])) for name, m in measured.items()}
            rounds.append(rates)
            lines.append({"round": number, **{f"{name}_per_s": rate for name, rate in rates.items()}})
        for read in _READS:
            line: dict[str, object] = {
                "path": f"{read}_read_interleaved",
                "rounds": len(rounds),
                "seconds_per_window": args.seconds,
                "median_per_s": round(statistics.median(r[read] for r in rounds), 1),
                "ceiling_median_per_s": round(statistics.median(r["ceiling"] for r in rounds), 1),
                "concurrency": _READS_IN_FLIGHT,
                "ceiling_concurrency": _CEILING_IN_FLIGHT,
                **ratios(rounds, read),
            }
            if read == "history":  # the page ceiling answers the history read's page only
                line["page_ceiling_median_per_s"] = round(
                    statistics.median(r["page_ceiling"] for r in rounds), 1
                )
                line.update(ratios(rounds, read, "page_ceiling", "page_ratio"))
                # The share of reads a kept page answered (the users' histories are quiet here).
                line["history_pages_kept_share"] = wallet_bench.kept_share(
                    pages_before, wallet_bench.history_pages(stack)
                )
            lines.append(line)
        return lines
    finally:
        await http.close()
        await ceiling.close()
        await page_ceiling.close()


def main(argv: list[str] | None = None) -> int:
    """Start the ceiling's stand-in and Envoy, and the wallet stack, on free ports; alternate; print JSON lines."""
    args = _parse(argv)
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]
    from tests.support.stack import running_edge_stack

    stand_in = ["-m", "tests.support.edge_backend"]
    with (
        edge_bench._backend(stand_in, behind_envoy=True) as (edge, _, token, _),
        # Its own stand-in and Envoy: the ceiling's Envoy keeps exactly `edge`'s routes.
        edge_bench._backend(stand_in, behind_envoy=True, services=("identity", "wallet")) as (
            page_edge,
            _,
            page_token,
            _,
        ),
        running_edge_stack(parts=("postgres", "redis", "migrations", "identity", "wallet", "edge")) as stack,
    ):
        for line in asyncio.run(_run(args, edge, token, page_edge, page_token, stack)):
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
