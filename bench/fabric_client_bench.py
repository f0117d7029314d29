"""Load generator: many concurrent submits through fabric_client against a devnet; prints committed tx/s.

Either point it at a running peer::

    .venv/bin/python bench/fabric_client_bench.py --peer 127.0.0.1:7051 \\
        --msp-dir STATE/organizations/peerOrganizations/org1.example.com/users/User1@org1.example.com/msp

or let it start a devnet with the kv test chaincode on free ports in a temporary directory::

    .venv/bin/python bench/fabric_client_bench.py --start --transactions 3000 --concurrency 200

Each transaction is a blind write of a fresh key (``Put``), so none conflict: the figure measures the
pipeline (endorse → sign → submit → commit status), not MVCC retries. Output is one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.stats import percentile as _percentile  # noqa: E402
from fabric_client import Gateway, Timeouts  # noqa: E402
from fabric_client.identity import load_msp_identity  # noqa: E402


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", help="host:port of a running peer's Gateway API")
    parser.add_argument("--msp-dir", type=Path, help="the client's MSP folder (signcerts/, keystore/)")
    parser.add_argument("--msp-id", default="Org1MSP")
    parser.add_argument("--channel", default="gxchannel")
    parser.add_argument("--chaincode", default="gx", help="name of a chaincode with Put(key, value)")
    parser.add_argument(
        "--start",
        action="store_true",
        help="start a devnet + kv chaincode in a temp dir (the default without --peer)",
    )
    parser.add_argument(
        "--batch-timeout", type=float, default=None, help="with --start: devnet batch timeout"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="with --start: devnet batch size")
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args(argv)
    if args.peer or args.msp_dir:
        if args.start or not (args.peer and args.msp_dir):
            parser.error("give --peer and --msp-dir together (or neither, to start a devnet)")
    else:
        # No peer given: start one of our own, so `make bench` needs no arguments.
        args.start = True
    return args


@contextlib.asynccontextmanager
async def _target(args: argparse.Namespace) -> AsyncIterator[tuple[str, Path]]:
    if not args.start:
        yield args.peer, args.msp_dir
        return
    from tests.support.ledger import running_ledger

    with tempfile.TemporaryDirectory(prefix="gx-bench-") as tmp:
        kwargs: dict[str, object] = {"chaincode": "kv", "chaincode_name": args.chaincode}
        if args.batch_timeout is not None:
            kwargs["batch_timeout"] = args.batch_timeout
        if args.batch_size is not None:
            kwargs["batch_size"] = args.batch_size
        async with running_ledger(Path(tmp), **kwargs) as ledger:
            yield ledger.peer_address, ledger.user("User1").cert_path.parents[1]


async def _run(gateway: Gateway, args: argparse.Namespace, count: int, prefix: str) -> dict[str, object]:
    contract = gateway.network(args.channel).contract(args.chaincode)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    latencies: list[float] = []
    endorse: list[float] = []
    failures: dict[str, int] = {}

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            try:
                tx = await contract.new_proposal("Put", args=[f"{prefix}-{i}", "v"]).endorse()
                endorse.append(time.perf_counter() - started)
                await gateway.submit(tx)
                status = await gateway.commit_status(tx.tx_id, channel_id=tx.channel_id)
                if status.successful:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures[status.code_name] = failures.get(status.code_name, 0) + 1
            except Exception as error:  # a benchmark reports failures rather than stopping
                key = type(error).__name__
                failures[key] = failures.get(key, 0) + 1

    started = time.perf_counter()
    cpu_started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(min(args.concurrency, count))))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "transactions": count,
        "committed_valid": len(latencies),
        "failures": failures,
        "elapsed_s": round(elapsed, 3),
        "committed_tps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {
            "p50": round(_percentile(latencies, 0.50) * 1000, 1),
            "p95": round(_percentile(latencies, 0.95) * 1000, 1),
            "p99": round(_percentile(latencies, 0.99) * 1000, 1),
            "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
        },
        "endorse_ms_p50": round(_percentile(endorse, 0.50) * 1000, 1),
        # CPU the load generator itself used per transaction: tells whether the client or the peer limits.
        "client_cpu_ms_per_tx": round(cpu / count * 1000, 3) if count else 0.0,
    }


async def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one JSON line with the figures."""
    args = _parse(argv)
    async with _target(args) as (peer, msp_dir):
        identity, signer = load_msp_identity(args.msp_id, msp_dir)
        timeouts = Timeouts(evaluate=30, endorse=60, submit=30, commit_status=120)
        async with Gateway.connect(peer, identity, signer, timeouts=timeouts) as gateway:
            prefix = uuid.uuid4().hex[:8]
            if args.warmup:
                await _run(gateway, args, args.warmup, prefix + "-warm")
            result = await _run(gateway, args, args.transactions, prefix)
    result.update({"concurrency": args.concurrency, "peer": peer, "started_devnet": bool(args.start)})
    print(json.dumps(result))
    return 0 if result["committed_valid"] == args.transactions else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
