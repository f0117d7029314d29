"""Contended transfers through the outbox: commands/s PENDING→COMMITTED for payments to one merchant,
the same payments to distinct recipients, and two users paying each other back and forth.

Starts embedded PostgreSQL, the devnet with the GX chaincode and one `python -m outbox` on free
ports in a temporary directory, and stops them afterwards::

    .venv/bin/python -m bench ordering        # or: .venv/bin/python bench/ordering_bench.py [--payers 16]

Each scenario records all its transfers in one transaction, then times from its commit until the
last of them was recorded finished (COMMITTED or FAILED).
Reported per scenario: commands/s, how many ended FAILED (by reason), and transactions submitted per
command (1.0 = no transaction wasted on a read conflict). The merchant/distinct ratio is the
issue's "a hot recipient must not become a queue" figure. The pipeline figure (issue 12): the
distinct-recipients transfers through the outbox against the same transfers sent raw through
fabric_client (each sender in order, all senders at once), in alternating rounds (raw, outbox, raw,
..., raw; `--pipeline-rounds`, 5): each outbox round over the mean of the raw rounds either side of
it, the median round reported with the lowest and highest. One round is 160 transfers in under a
second, and two raw rounds a minute apart differ by up to 12%: a single round was a coin toss
around the 0.90 line. The script only uses what every outbox
version has (the commands table and the submitted/committed counters), so it measures the code
before the ordering work as well as after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
for entry in (str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from google.protobuf.message import Message  # noqa: E402
from gx.ledger.v1 import commands_pb2  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine  # noqa: E402

from bench.raw_transfers import send_ordered  # noqa: E402
from bench.stats import cpu_seconds  # noqa: E402
from services.common import migrate  # noqa: E402
from services.common.outbox import record_command  # noqa: E402
from tests.support.ledger import running_ledger  # noqa: E402
from tests.support.stack import running_postgres  # noqa: E402
from tests.workers.conftest import record  # noqa: E402
from tests.workers.mesh import WorkerProcess, worker_env  # noqa: E402


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--payers", type=int, default=16, help="users paying (the merchant, or one recipient each)"
    )
    parser.add_argument("--payments", type=int, default=10, help="payments per payer")
    parser.add_argument(
        "--pipeline-rounds",
        type=int,
        default=5,
        help="outbox rounds of the pipeline figure, each between two raw rounds (the median is reported)",
    )
    parser.add_argument("--back-and-forth", type=int, default=30, help="payments each way between two users")
    parser.add_argument("--batch-timeout", type=float, default=0.05, help="devnet batch timeout (s)")
    parser.add_argument(
        "--max-attempts", default="8", help="GX_OUTBOX__MAX_ATTEMPTS (the default: what production runs)"
    )
    return parser.parse_args(argv)


def _rid() -> str:
    return str(uuid.uuid4())


def _tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process, its live descendants and the children it has reaped (PostgreSQL's
    backends: the postmaster reaps them, so their CPU lands in its cutime/cstime)."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
    except psutil.Error:
        return 0.0
    return float(total)


class CpuBudget:
    """CPU per transfer of every process on the path (the machine has 2 cores: what the outbox and
    PostgreSQL spend per command, the devnet and chaincode cannot; the raw side pays neither)."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self._pids = pids
        self._start = self._read()

    def _read(self) -> dict[str, float]:
        # Only PostgreSQL is read as a tree (its backends); the others' children are counted apart
        # (the bench process is the parent of them all).
        return {
            name: _tree_cpu(pid) if name == "postgres" else cpu_seconds(pid)
            for name, pid in self._pids.items()
        }

    def per_transfer_ms(self, transfers: int) -> dict[str, float]:
        now = self._read()
        return {
            name: round((now[name] - self._start[name]) * 1000 / max(1, transfers), 2) for name in self._pids
        }


def _counter(port: int, name: str, labels: str = "") -> float:
    """A counter summed over its labels (those whose label text contains `labels`, if given)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(
        float(value)
        for found, value in re.findall(
            rf"^{re.escape(name)}(\{{[^}}]*\}})? ([0-9.eE+-]+)$", body, re.MULTILINE
        )
        if labels in found
    )


async def _scalar(engine: AsyncEngine, sql: str, params: dict[str, object] | None = None) -> Any:
    """The one value a one-row, one-column query answers."""
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params or {})).scalar_one()


async def _live(engine: AsyncEngine, ids: list[uuid.UUID]) -> int:
    return int(
        await _scalar(
            engine,
            "SELECT count(*) FROM outbox.commands WHERE id = ANY(:ids) AND status IN ('PENDING', 'SUBMITTED')",
            {"ids": ids},
        )
    )


async def _any_live(engine: AsyncEngine) -> bool:
    # The partial index of live commands answers this at once. Counting the scenario's 400 ids
    # every 20 ms cost this process ~1 ms and PostgreSQL more per transfer, on the cores the
    # pipeline it measures runs on (the raw side has no such poll).
    return bool(
        await _scalar(
            engine, "SELECT EXISTS (SELECT 1 FROM outbox.commands WHERE status IN ('PENDING', 'SUBMITTED'))"
        )
    )


async def _last_committed(engine: AsyncEngine, ids: list[uuid.UUID]) -> float:
    """When the last of `ids` was recorded finished (epoch seconds): the start of the statement
    that recorded it (`updated_at = now()`), on the clock `time.time()` reads.

    The scenario ends there, not at the poll that saw it: polling every 20 ms added 10 ms on
    average (plus the poll) to a run of under a second, about 1.5%, which the raw side, ending at
    its last commit status, does not pay. What this leaves out is the last record statement's own
    execution (its wait for the grouped statement before it is counted): 1-3 ms, at most 0.4%.
    """
    return float(
        await _scalar(
            engine,
            "SELECT extract(epoch FROM max(updated_at)) FROM outbox.commands WHERE id = ANY(:ids)",
            {"ids": ids},
        )
    )


async def _until_done(engine: AsyncEngine, ids: list[uuid.UUID], limit: float = 900) -> None:
    """Until none of `ids` is live. Each scenario runs alone, so "no live command at all" is polled."""
    deadline = time.monotonic() + limit
    while await _any_live(engine) or await _live(engine, ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{await _live(engine, ids)} commands not done in {limit}s")
        await asyncio.sleep(0.02)


async def _record_all(engine: AsyncEngine, command_type: str, payloads: list[object]) -> list[uuid.UUID]:
    return [await record(engine, command_type, p) for p in payloads]


async def _record_batch(engine: AsyncEngine, command_type: str, payloads: list[Message]) -> list[uuid.UUID]:
    """Record commands as a service does (record_command, NOTIFY on commit), all in one transaction."""
    async with AsyncSession(engine) as session, session.begin():
        operations = [await record_command(session, command_type, p) for p in payloads]
    return [uuid.UUID(o.name.removeprefix("operations/")) for o in operations]


async def _scenario(
    engine: AsyncEngine,
    port: int,
    pairs: list[tuple[str, str]],
    pid: int | None = None,
    pids: dict[str, int | None] | None = None,
) -> dict[str, object]:
    submitted0 = _counter(port, "gx_outbox_commands_submitted_total")
    # Round trips: the worker's hot-path statements (0 for an outbox that does not count them) and
    # its calls to the peer.
    statements0 = _counter(port, "gx_outbox_statements_total")
    calls0 = _counter(port, "gx_fabric_client_calls_total")
    handed0 = _counter(port, "gx_outbox_handed_over_total")  # 0 for an outbox without the hand-over
    # Successors endorsed while their predecessor was recorded (0 for an outbox that does not).
    speculated0 = _counter(port, "gx_outbox_speculative_endorsements_total", 'outcome="used"')
    cpu0 = cpu_seconds(pid)
    # Recorded in one transaction, timed from its commit: PENDING→COMMITTED is the outbox's part
    # (recording one by one from here would time this script, about 7 ms a command).
    ids = await _record_batch(
        engine,
        "TRANSFER_TOKENS",
        [
            commands_pb2.TransferTokensRequest(
                request_id=_rid(), from_account_id=a, to_account_id=b, amount_qirat=1_000
            )
            for a, b in pairs
        ],
    )
    # From the commit of the recording (PostgreSQL's part of recording is the accept's, not the pipeline's).
    budget = CpuBudget(pids or {})
    started = time.time()
    await _until_done(engine, ids)
    elapsed = await _last_committed(engine, ids) - started
    outbox_cpu = cpu_seconds(pid) - cpu0
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT status, error_code, error_message FROM outbox.commands WHERE id = ANY(:ids)"),
                {"ids": ids},
            )
        ).all()
    failed = Counter(r.error_code for r in rows if r.status == "FAILED")
    sample = next((f"{r.error_code}: {r.error_message}"[:200] for r in rows if r.status == "FAILED"), None)
    submitted = _counter(port, "gx_outbox_commands_submitted_total") - submitted0
    handed = _counter(port, "gx_outbox_handed_over_total") - handed0
    speculated = _counter(port, "gx_outbox_speculative_endorsements_total", 'outcome="used"') - speculated0
    statements = _counter(port, "gx_outbox_statements_total") - statements0
    calls = _counter(port, "gx_fabric_client_calls_total") - calls0
    return {
        "commands": len(ids),
        "commands_per_s": round(len(ids) / elapsed, 1),
        "seconds": round(elapsed, 2),
        "failed": sum(failed.values()),
        "failed_reasons": dict(failed),
        "failure_sample": sample,
        "tx_per_command": round(submitted / len(ids), 2),
        # Started by the statement that recorded their predecessor, without a claim of their own.
        "handed_over_per_command": round(handed / len(ids), 2),
        "speculated_per_command": round(speculated / len(ids), 2),
        "outbox_cpu_ms_per_command": round(outbox_cpu * 1000 / len(ids), 2),
        "pg_statements_per_command": round(statements / len(ids), 2),
        "peer_calls_per_command": round(calls / len(ids), 2),
        "cpu_ms_per_transfer": budget.per_transfer_ms(len(ids)),
    }


async def _raw(
    ledger: object, pairs: list[tuple[str, str]], pids: dict[str, int | None] | None = None
) -> dict[str, object]:
    """The same transfers straight through fabric_client, no outbox and no database, under the
    outbox's ordering (`bench/raw_transfers.py`: here each sender's transfers one after another,
    all senders at once)."""
    budget = CpuBudget(pids or {})
    raw = await send_ordered(ledger, pairs)
    return {
        "transfers": raw.transfers,
        "transfers_per_s": raw.transfers_per_s,
        "conflict_retries": raw.conflict_retries,
        "cpu_ms_per_transfer": budget.per_transfer_ms(raw.transfers),
    }


def _postmaster(data_dir: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((Path(data_dir) / "postmaster.pid").read_text().splitlines()[0])
    return None


async def run(args: argparse.Namespace) -> dict[str, object]:
    with (
        tempfile.TemporaryDirectory(prefix="gx-ordering-bench-") as tmp,
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
                GX_OUTBOX__MAX_ATTEMPTS=args.max_attempts,
                GX_OUTBOX__CONCURRENCY="64",
            )
            logs = Path(tmp) / "logs"
            logs.mkdir()
            outbox = await WorkerProcess("outbox", logs, env).start()
            try:
                # One at a time, so the set-up is the same whatever the outbox version orders.
                for payload, kind in (
                    (commands_pb2.BootstrapSystemRequest(request_id=_rid()), "BOOTSTRAP_SYSTEM"),
                    (
                        commands_pb2.InitializeCountriesRequest(
                            request_id=_rid(),
                            countries=[
                                commands_pb2.CountryShare(
                                    country_code="LK", name="Sri Lanka", share_bps=10_000
                                )
                            ],
                        ),
                        "INITIALIZE_COUNTRY",
                    ),
                ):
                    await _until_done(engine, await _record_all(engine, kind, [payload]))
                payers = [_rid() for _ in range(args.payers)]
                recipients = [_rid() for _ in range(args.payers)]
                merchant, a, b = _rid(), _rid(), _rid()
                for user in [*payers, *recipients, merchant, a, b]:
                    created = await _record_all(
                        engine,
                        "CREATE_USER",
                        [
                            commands_pb2.CreateUserRequest(
                                request_id=_rid(), user_id=user, country_code="LK", date_of_birth="1990-05-17"
                            )
                        ],
                    )
                    await _until_done(engine, created)
                    async with engine.connect() as conn:
                        status, error = (
                            await conn.execute(
                                text("SELECT status, error_message FROM outbox.commands WHERE id = :id"),
                                {"id": created[0]},
                            )
                        ).one()
                    if status != "COMMITTED":
                        raise RuntimeError(f"set-up failed: CREATE_USER {status}: {error}")

                rounds = range(args.payments)
                distinct = [(p, r) for _ in rounds for p, r in zip(payers, recipients, strict=True)]
                pid = outbox.process.pid if outbox.process is not None else None
                pids = {
                    "devnet": ledger.devnet_pid,
                    "chaincode": ledger.chaincode_pid,
                    "outbox": pid,
                    "postgres": _postmaster(pg.server.data_dir),
                    "bench": os.getpid(),
                }
                # The pipeline figure: the same independent transfers raw and through the outbox,
                # alternating (raw, outbox, raw, ..., raw), so each outbox round sits between two
                # raw rounds and drift on a shared machine hits both sides alike.
                raws = [await _raw(ledger, distinct, pids)]
                outboxes: list[dict[str, object]] = []
                for _ in range(args.pipeline_rounds):
                    outboxes.append(await _scenario(engine, outbox.metrics_port, distinct, pid, pids))
                    raws.append(await _raw(ledger, distinct, pids))
                ratios = _round_ratios(outboxes, raws)
                # The median round (the lower middle for an even count) stands for the scenario, so
                # the rate, the CPU and the ratio printed all come from the same round.
                middle = ratios.index(statistics.median_low(ratios))
                figures: dict[str, object] = {"distinct_recipients": outboxes[middle]}
                figures.update(
                    {
                        "one_merchant": await _scenario(
                            engine, outbox.metrics_port, [(p, merchant) for _ in rounds for p in payers], pid
                        ),
                        "back_and_forth": await _scenario(
                            engine,
                            outbox.metrics_port,
                            [pair for _ in range(args.back_and_forth) for pair in ((a, b), (b, a))],
                            pid,
                        ),
                        "issue_mix": await _scenario(
                            engine,
                            outbox.metrics_port,
                            [
                                pair
                                for i in range(args.back_and_forth)
                                for pair in [
                                    (a, b),
                                    (b, a),
                                    *([(p, merchant) for p in payers[:8]] if i < 5 else []),
                                ]
                            ],
                            pid,
                        ),
                    }
                )
            finally:
                await outbox.stop()
                await engine.dispose()
    distinct_rate = float(figures["distinct_recipients"]["commands_per_s"])  # type: ignore[index]
    merchant_rate = float(figures["one_merchant"]["commands_per_s"])  # type: ignore[index]
    return {
        **figures,
        "merchant_to_distinct_ratio": round(merchant_rate / distinct_rate, 2) if distinct_rate else None,
        # The pipeline figure for independent transfers: outbox PENDING→COMMITTED against
        # the raw devnet rate of the same transfers, measured in this run: the median round's.
        "raw_distinct_recipients": raws,
        "pipeline_rounds": [
            {
                "commands_per_s": o["commands_per_s"],
                "raw_around_per_s": _raw_around(raws, i),
                "ratio": round(r, 3),
            }
            for i, (o, r) in enumerate(zip(outboxes, ratios, strict=True))
        ],
        "commands_per_s_pending_to_committed": distinct_rate,
        "devnet_raw_transfers_per_s": _raw_around(raws, middle),
        "pipeline_ratio": round(ratios[middle], 3),
        "pipeline_median_round": middle,
        "pipeline_ratio_min": round(min(ratios), 3),
        "pipeline_ratio_max": round(max(ratios), 3),
    }


def _raw_around(raws: list[dict[str, object]], round_number: int) -> float:
    """The raw rate around outbox round `round_number`: the mean of the raw rounds before and after it."""
    pair = raws[round_number : round_number + 2]
    return round(sum(float(str(r["transfers_per_s"])) for r in pair) / len(pair), 1)


def _round_ratios(outboxes: list[dict[str, object]], raws: list[dict[str, object]]) -> list[float]:
    """Each outbox round's rate over the raw rate around it."""
    return [float(str(o["commands_per_s"])) / _raw_around(raws, i) for i, o in enumerate(outboxes)]


async def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = _parse(argv)
    figures = await run(args)
    for name in ("distinct_recipients", "one_merchant", "back_and_forth", "issue_mix"):
        f: dict[str, Any] = figures[name]  # type: ignore[assignment]
        print(
            f"{name:20} {f['commands']:4} transfers  {f['commands_per_s']:7} /s  failed {f['failed']}"
            f" {f['failed_reasons'] or ''}  tx/command {f['tx_per_command']}"
            f"  handed over/command {f['handed_over_per_command']}"
            f"  speculated/command {f['speculated_per_command']}"
            f"  outbox CPU {f['outbox_cpu_ms_per_command']} ms, {f.get('pg_statements_per_command')} statements"
            f" and {f.get('peer_calls_per_command')} peer calls per command"
        )
    print(f"merchant / distinct recipients: {figures['merchant_to_distinct_ratio']}")
    print(
        f"pipeline (distinct recipients, median of {len(figures['pipeline_rounds'])} rounds):"  # type: ignore[arg-type]
        f" {figures['commands_per_s_pending_to_committed']} commands/s through the outbox,"
        f" {figures['devnet_raw_transfers_per_s']} transfers/s raw around it: {figures['pipeline_ratio']}"
        f" (rounds {figures['pipeline_ratio_min']}-{figures['pipeline_ratio_max']}: "
        + ", ".join(str(r["ratio"]) for r in figures["pipeline_rounds"])  # type: ignore[attr-defined]
        + ")"
    )
    outbox_cpu: dict[str, float] = figures["distinct_recipients"]["cpu_ms_per_transfer"]  # type: ignore[index]
    middle = int(figures["pipeline_median_round"])  # type: ignore[call-overload]
    around = figures["raw_distinct_recipients"][middle : middle + 2]  # type: ignore[index]
    raw_cpu = [r["cpu_ms_per_transfer"] for r in around]
    print(
        "CPU ms per transfer (distinct recipients, the median round): through the outbox "
        + ", ".join(f"{k} {v}" for k, v in outbox_cpu.items())
        + f" (total {sum(outbox_cpu.values()):.2f}); raw before and after it "
        + " | ".join(
            ", ".join(f"{k} {v}" for k, v in r.items()) + f" (total {sum(r.values()):.2f})" for r in raw_cpu
        )
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(asyncio.run(main()))
