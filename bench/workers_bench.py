"""Outbox + projector benchmark: commands/s PENDING→COMMITTED (with the raw devnet figure beside it),
events projected/s, accept→projected latency p50/p99 and pickup latency.

Starts everything it needs on free ports in a temporary directory (embedded PostgreSQL, the devnet
with the GX chaincode, `python -m outbox` and `python -m projector`) and stops it afterwards::

    .venv/bin/python bench/workers_bench.py [--users 40] [--commands 200] [--latency-commands 60]

Output: a human-readable summary and one JSON line. Transfers go round-robin (user i pays user
i + 1), next to the rate of the same transfers submitted straight through fabric_client (no outbox,
no database) on the same devnet under the same ordering (`bench/raw_transfers.py`). Since the
outbox orders commands per account (a send waits for the credits to its sender recorded before
it), this round robin is ONE causal chain on both sides: the rate of strictly ordered commands,
about one per block. `bench/ordering_bench.py`
measures independent and contended loads (distinct recipients, one merchant, back and forth).

The replay is timed from the moment a fresh projector holds the projection lock (process start-up
not counted) until every transaction of the chain (the raw transfers included) is projected again,
`--replay-rounds` times; the median is `replay_tx_per_s`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
for entry in (str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from gx.ledger.v1 import commands_pb2  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from bench.raw_transfers import send_ordered  # noqa: E402
from bench.stats import cpu_seconds  # noqa: E402
from fabric_client import Gateway, load_msp_identity  # noqa: E402
from services.common import migrate, operations  # noqa: E402
from tests.support.ledger import running_ledger  # noqa: E402
from tests.support.stack import running_postgres  # noqa: E402
from tests.workers.conftest import record  # noqa: E402
from tests.workers.mesh import WorkerProcess, worker_env  # noqa: E402


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--commands", type=int, default=200, help="transfers for the throughput phase")
    parser.add_argument(
        "--raw", type=int, default=200, help="transfers submitted straight through fabric_client"
    )
    parser.add_argument(
        "--replay-rounds", type=int, default=3, help="rebuild-and-replay rounds (median reported)"
    )
    parser.add_argument("--latency-commands", type=int, default=60)
    parser.add_argument("--latency-concurrency", type=int, default=4)
    parser.add_argument("--batch-timeout", type=float, default=0.05, help="devnet batch timeout (s)")
    return parser.parse_args(argv)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def _rid() -> str:
    return str(uuid.uuid4())


async def _wait_done(engine: AsyncEngine, ids: list[uuid.UUID], limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    pending = list(ids)
    while pending:
        still = []
        for cid in pending:
            result = await operations.get_operation(engine, cid)
            if result is None or not result[0].done:
                still.append(cid)
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} commands not done")
            await asyncio.sleep(0.05)


async def _count(engine: AsyncEngine, sql: str, **params: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def _poll(
    read: Callable[[], Awaitable[int]],
    done: Callable[[int], bool],
    interval: float = 0.02,
    limit: float = 600,
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if done(await read()):
            return
        await asyncio.sleep(interval)
    raise TimeoutError("condition not met")


def _histogram(port: int, name: str) -> dict[str, float]:
    """Cumulative bucket counts (by `le`) plus `_sum` and `_count` of one histogram."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for le, value in re.findall(
        rf'^{re.escape(name)}_bucket{{le="([^"]+)"}} ([0-9.eE+-]+)$', body, re.MULTILINE
    ):
        out[le] = float(value)
    out["_sum"] = _metric(port, f"{name}_sum")
    out["_count"] = _metric(port, f"{name}_count")
    return out


def _histogram_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Mean and bucket-bound p50/p99 of the observations between two snapshots."""
    count = after["_count"] - before["_count"]
    if count <= 0:
        return {}
    buckets = sorted((float(le), after[le] - before.get(le, 0.0)) for le in after if not le.startswith("_"))

    def quantile(q: float) -> float:
        for bound, cumulative in buckets:
            if cumulative >= q * count:
                return bound
        return float("inf")

    return {
        "mean": (after["_sum"] - before["_sum"]) / count,
        "p50_le": quantile(0.5),
        "p99_le": quantile(0.99),
        "n": count,
    }


def _steps(port: int) -> dict[str, tuple[float, float]]:
    """(sum, count) of each step of `gx_outbox_step_seconds` (outbox/processor.py)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out: dict[str, tuple[float, float]] = {}
    for step in re.findall(r'^gx_outbox_step_seconds_count{step="([a-z_]+)"}', body, re.MULTILINE):
        total = re.search(rf'^gx_outbox_step_seconds_sum{{step="{step}"}} ([0-9.eE+-]+)$', body, re.MULTILINE)
        count = re.search(
            rf'^gx_outbox_step_seconds_count{{step="{step}"}} ([0-9.eE+-]+)$', body, re.MULTILINE
        )
        if total and count:
            out[step] = (float(total.group(1)), float(count.group(1)))
    return out


def _step_means_ms(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> dict[str, float]:
    """Mean milliseconds per step between two snapshots (where a command's time goes)."""
    means = {}
    for step, (total, count) in after.items():
        total0, count0 = before.get(step, (0.0, 0.0))
        if count > count0:
            means[step] = round((total - total0) / (count - count0) * 1000, 1)
    return means


def _metric(port: int, name: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    match = re.search(rf"^{re.escape(name)} ([0-9.eE+-]+)$", body, re.MULTILINE)
    return float(match.group(1)) if match else float("nan")


async def _raw_devnet(ledger: Any, users: list[str], count: int) -> float:
    """The same round robin straight through fabric_client, under the same ordering as the outbox.

    Like for like: user i pays user i + 1, so each transfer debits the account the one before it
    credited, and the outbox runs them one after another (one causal chain). Sent raw without that
    constraint (as this figure was until 2026-12-06, 64 at once) they raced on MVCC conflicts and
    measured a different load.
    """
    pairs = [(users[i % len(users)], users[(i + 1) % len(users)]) for i in range(count)]
    return (await send_ordered(ledger, pairs)).transfers_per_s


async def _settled(engine: AsyncEngine) -> None:
    """Wait until the live projector has caught up (projected_txs stops growing)."""
    last = -1
    while (now := await _count(engine, "SELECT count(*) FROM ledger.projected_txs")) != last:
        last = now
        await asyncio.sleep(0.5)


def _postgres_cpu(data_dir: Path) -> float:
    """CPU seconds used so far by the cluster in `data_dir`: its postmaster and every backend."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(postmaster)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    total += cpu_seconds(int(entry.name))
    return total


@dataclasses.dataclass(frozen=True)
class Replay:
    """One replay round: its time, what it replayed, and the CPU the projector and PostgreSQL spent."""

    seconds: float
    transactions: int
    domain_events: int
    projector_cpu_s: float
    postgres_cpu_s: float


async def _replay(
    engine: AsyncEngine,
    ledger: object,
    projector: WorkerProcess,
    logs: Path,
    env: dict[str, str],
    pg_data: Path,
) -> tuple[Replay, WorkerProcess]:
    """Rebuild the read models with a fresh projector; the round's figures and the new process.

    CPU is counted over the same interval as the time (backends that ended during it are missed:
    the projector's own connections stay open).
    """
    from projector import rebuild

    await projector.stop()
    txs = await _count(engine, "SELECT count(*) FROM ledger.projected_txs")
    domain_events = await _count(engine, "SELECT events_applied FROM ledger.checkpoints")
    async with engine.begin() as conn:
        await rebuild.reset(conn, f"{ledger.channel}/{ledger.chaincode_name}")  # type: ignore[attr-defined]
    projector = await WorkerProcess("projector", logs, env).start()

    async def active() -> int:
        try:
            return int(_metric(projector.metrics_port, "gx_projector_active") == 1)
        except OSError:
            return 0

    await _poll(active, lambda n: n == 1, 0.005)
    pid = projector.process.pid if projector.process is not None else None
    cpu_before, pg_before = cpu_seconds(pid), _postgres_cpu(pg_data)
    started = time.perf_counter()
    await _poll(
        lambda: _count(engine, "SELECT count(*) FROM ledger.projected_txs"), lambda n: n >= txs, 0.005
    )
    elapsed = time.perf_counter() - started
    figures = Replay(
        elapsed, txs, domain_events, cpu_seconds(pid) - cpu_before, _postgres_cpu(pg_data) - pg_before
    )
    return figures, projector


async def _stream_ceiling(ledger: Any, count: int) -> float:
    """Events/s the devnet streams from block 0 to a reader that does nothing with them: the replay's ceiling."""
    identity, signer = load_msp_identity(
        ledger.msp_id, ledger.org_dir / "users" / f"User1@{ledger.domain}" / "msp"
    )
    async with Gateway.connect(ledger.peer_address, identity, signer) as gateway:
        stream = gateway.network(ledger.channel).chaincode_events(ledger.chaincode_name, start_block=0)
        seen = 0
        started = time.perf_counter()
        async with stream:
            async for _ in stream:
                seen += 1
                if seen >= count:
                    break
        return seen / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> dict[str, object]:
    with (
        tempfile.TemporaryDirectory(prefix="gx-workers-bench-") as tmp,
        running_postgres(Path(tmp) / "pg") as pg,
    ):
        url = pg.create_database("bench")
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_async_engine(url, pool_size=10)
        async with running_ledger(
            Path(tmp) / "ledger", chaincode="gx", batch_timeout=args.batch_timeout
        ) as ledger:
            env = worker_env(
                url,
                ledger,
                GX_LOG_LEVEL="WARNING",
                GX_OUTBOX__MAX_ATTEMPTS="200",
                GX_OUTBOX__CONCURRENCY="64",
            )
            logs = Path(tmp) / "logs"
            logs.mkdir()
            outbox = await WorkerProcess("outbox", logs, env).start()
            projector = await WorkerProcess("projector", logs, env).start()
            try:
                await _wait_done(
                    engine,
                    [
                        await record(
                            engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=_rid())
                        )
                    ],
                )
                await _wait_done(
                    engine,
                    [
                        await record(
                            engine,
                            "INITIALIZE_COUNTRY",
                            commands_pb2.InitializeCountriesRequest(
                                request_id=_rid(),
                                countries=[
                                    commands_pb2.CountryShare(
                                        country_code="LK", name="Sri Lanka", share_bps=10_000
                                    )
                                ],
                            ),
                        )
                    ],
                )
                users = [_rid() for _ in range(args.users)]
                await _wait_done(
                    engine,
                    [
                        await record(
                            engine,
                            "CREATE_USER",
                            commands_pb2.CreateUserRequest(
                                request_id=_rid(), user_id=u, country_code="LK", date_of_birth="1990-05-17"
                            ),
                        )
                        for u in users
                    ],
                )

                # 1. Throughput: record all, time until every one is COMMITTED, then until projected.
                steps_before = _steps(outbox.metrics_port)
                started = time.perf_counter()
                ids = [
                    await record(
                        engine,
                        "TRANSFER_TOKENS",
                        commands_pb2.TransferTokensRequest(
                            request_id=_rid(),
                            from_account_id=users[i % len(users)],
                            to_account_id=users[(i + 1) % len(users)],
                            amount_qirat=1_000,
                        ),
                    )
                    for i in range(args.commands)
                ]
                recorded = time.perf_counter() - started
                await _poll(
                    lambda: _count(
                        engine,
                        "SELECT count(*) FROM outbox.commands WHERE id = ANY(:ids) AND status IN ('PENDING','SUBMITTED')",
                        ids=ids,
                    ),
                    lambda n: n == 0,
                )
                committed_s = time.perf_counter() - started
                chain_steps = _step_means_ms(steps_before, _steps(outbox.metrics_port))
                await _wait_done(engine, ids)
                projected_s = time.perf_counter() - started
                failed = await _count(
                    engine,
                    "SELECT count(*) FROM outbox.commands WHERE id = ANY(:ids) AND status = 'FAILED'",
                    ids=ids,
                )
                retries = await _count(
                    engine,
                    "SELECT COALESCE(sum(attempts), 0) FROM outbox.commands WHERE id = ANY(:ids)",
                    ids=ids,
                )

                # 2. Accept → projected latency at a modest load (pickup measured over this phase only).
                pickup_before = _histogram(outbox.metrics_port, "gx_outbox_pickup_seconds")
                latencies: list[float] = []
                queue = list(range(args.latency_commands))

                async def client() -> None:
                    while queue:
                        i = queue.pop()
                        t0 = time.perf_counter()
                        cid = await record(
                            engine,
                            "TRANSFER_TOKENS",
                            commands_pb2.TransferTokensRequest(
                                request_id=_rid(),
                                from_account_id=users[(2 * i) % len(users)],
                                to_account_id=users[(2 * i + 1) % len(users)],
                                amount_qirat=500,
                            ),
                        )
                        await operations.wait_operation(
                            engine, cid, 60, poll_interval=0.005, max_poll_interval=0.02
                        )
                        latencies.append(time.perf_counter() - t0)

                await asyncio.gather(*(client() for _ in range(args.latency_concurrency)))
                pickup = _histogram_delta(
                    pickup_before, _histogram(outbox.metrics_port, "gx_outbox_pickup_seconds")
                )
                pickup_burst = _histogram_delta({"_sum": 0.0, "_count": 0.0}, pickup_before)

                # 3. The raw figure: the same round robin without the outbox, in the same order (they
                # are part of the chain the replay below reads, so it replays more than the commands above).
                await outbox.stop()
                raw = await _raw_devnet(ledger, users, args.raw)
                await _settled(engine)

                # 4. Projection replay: stop the projector, reset, time the replay of the whole chain
                # from the moment the new process holds the projection lock (start-up not counted),
                # several rounds; the median is the figure.
                replays: list[Replay] = []
                fallbacks = 0
                for _ in range(args.replay_rounds):
                    replay, projector = await _replay(
                        engine, ledger, projector, logs, env, pg.server.data_dir
                    )
                    replays.append(replay)
                    # A batch that failed was applied again one by one: correct, but not the fast path.
                    fallbacks += projector.log().count("applying them one by one")
                rounds = [r.seconds for r in replays]
                replay_s = statistics.median(rounds)
                txs, domain_events = replays[-1].transactions, replays[-1].domain_events
                # CPU per transaction, the median round's: what bounds the replay on a busy machine.
                median = sorted(replays, key=lambda r: r.seconds)[len(replays) // 2]
                replay_load = os.getloadavg()[0]
                ceiling = await _stream_ceiling(ledger, txs)
                apply_sum = _metric(projector.metrics_port, "gx_projector_apply_seconds_sum")
                apply_count = _metric(projector.metrics_port, "gx_projector_apply_seconds_count")
                batches = _histogram(projector.metrics_port, "gx_projector_batch_transactions")
                domain = await _count(engine, "SELECT count(*) FROM ledger.transactions")
            finally:
                await outbox.stop()
                await projector.stop()
                await engine.dispose()
    return {
        "commands": args.commands,
        "record_s": round(recorded, 3),
        "commands_per_s_pending_to_committed": round(args.commands / committed_s, 1),
        "commands_per_s_pending_to_projected": round(args.commands / projected_s, 1),
        "failed": failed,
        "outbox_attempts_total": retries,
        "devnet_raw_transfers_per_s": round(raw, 1),
        # Per hop of the chain: the outbox's steps (mean ms) against the raw hop (1000 / raw rate).
        "chain_hop_ms": round(1000 * committed_s / args.commands, 1),
        "chain_step_ms": chain_steps,
        "raw_chain_hop_ms": round(1000 / raw, 1) if raw else None,
        "replay_transactions": txs,
        "replay_tx_per_s": round(txs / replay_s, 1),
        "replay_tx_per_s_rounds": [round(txs / r, 1) for r in rounds],
        "replay_projector_cpu_ms_per_tx": round(median.projector_cpu_s / txs * 1000, 3),
        "replay_postgres_cpu_ms_per_tx": round(median.postgres_cpu_s / txs * 1000, 3),
        "replay_load_average": round(replay_load, 2),
        "devnet_stream_events_per_s": round(ceiling, 1),
        # NaN (no such metric) before the projector applied batches.
        "replay_batches_last_round": int(batches["_count"])
        if batches["_count"] == batches["_count"]
        else None,
        "replay_batch_fallbacks": fallbacks,
        "replay_history_rows_per_s": round(domain / replay_s, 1),
        "checkpoint_events_before_replay": domain_events,
        "projector_apply_mean_ms": round(apply_sum / apply_count * 1000, 2) if apply_count else None,
        "accept_to_projected_p50_ms": round(_pct(latencies, 0.5) * 1000, 1),
        "accept_to_projected_p99_ms": round(_pct(latencies, 0.99) * 1000, 1),
        "accept_to_projected_mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "pickup_mean_ms": round(pickup["mean"] * 1000, 1) if pickup else None,
        "pickup_p50_le_ms": round(pickup["p50_le"] * 1000, 1) if pickup else None,
        "pickup_p99_le_ms": round(pickup["p99_le"] * 1000, 1) if pickup else None,
        "pickup_mean_ms_during_burst": round(pickup_burst["mean"] * 1000, 1) if pickup_burst else None,
    }


async def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = _parse(argv)
    figures = await run(args)
    print(
        f"outbox: {figures['commands_per_s_pending_to_committed']} commands/s PENDING→COMMITTED"
        f" (devnet raw, the same chain via fabric_client: {figures['devnet_raw_transfers_per_s']} tx/s);"
        f" {figures['commands_per_s_pending_to_projected']} commands/s to projected\n"
        f"chain hop: {figures['chain_hop_ms']} ms through the outbox (steps, mean ms: {figures['chain_step_ms']}),"
        f" {figures['raw_chain_hop_ms']} ms raw\n"
        f"projector replay: {figures['replay_tx_per_s']} transactions/s, median of {figures['replay_tx_per_s_rounds']}"
        f" ({figures['replay_transactions']} transactions; the devnet streams {figures['devnet_stream_events_per_s']} events/s"
        f" to a reader that does nothing; {figures['replay_history_rows_per_s']} history rows/s;"
        f" apply+checkpoint {figures['projector_apply_mean_ms']} ms per transaction;"
        f" {figures['replay_batches_last_round']} batches, {figures['replay_batch_fallbacks']} fell back to one by one;"
        f" CPU per transaction: projector {figures['replay_projector_cpu_ms_per_tx']} ms,"
        f" PostgreSQL {figures['replay_postgres_cpu_ms_per_tx']} ms; load average {figures['replay_load_average']})\n"
        f"accept→projected: p50 {figures['accept_to_projected_p50_ms']} ms, p99 {figures['accept_to_projected_p99_ms']} ms;"
        f" pickup mean {figures['pickup_mean_ms']} ms (p50 <= {figures['pickup_p50_le_ms']} ms, p99 <= {figures['pickup_p99_le_ms']} ms;"
        f" {figures['pickup_mean_ms_during_burst']} ms mean while a burst of {figures['commands']} queued)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(asyncio.run(main()))
