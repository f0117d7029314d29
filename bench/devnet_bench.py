"""Devnet throughput: committed transactions/s for a simple write, many concurrent submits from one client process.

Starts devnet and the kv test chaincode (tests/support/ledger.py) on free ports in a temporary directory,
then runs ``--transactions`` blind writes of fresh keys (``Put``: no MVCC conflicts) with ``--concurrency``
workers, each doing the full client flow: signed proposal → Endorse → sign envelope → Submit →
CommitStatus (blocks until committed). Prints one JSON line: committed VALID tx/s, latency percentiles,
and the CPU each process spent per transaction (what limits the figure on a 2-core machine).

The default client is a lean one on raw gRPC stubs, so that the figure measures devnet rather than client
overhead; ``--client fabric_client`` drives the same load through the project's Gateway client instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
for _p in (REPO_ROOT, REPO_ROOT / "gen" / "python"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench.stats import cpu_seconds as _cpu_seconds  # noqa: E402
from bench.stats import percentile as _percentile  # noqa: E402


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transactions", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=None, help="devnet block size (default: devnet's)")
    parser.add_argument("--batch-timeout", type=float, default=None, help="devnet batch timeout, seconds")
    parser.add_argument("--client", choices=("lean", "fabric_client"), default="lean")
    return parser.parse_args(argv)


async def _lean_submitter(
    ledger: object,
) -> tuple[Callable[[str], Awaitable[int]], Callable[[], Awaitable[None]]]:
    """A minimal Gateway client on raw stubs; returns submit(key) -> validation code, and close()."""
    import grpc
    from fabric_protos.common import common_pb2
    from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc

    from tests.devnet.txbuild import Signer, signed_proposal, user_msp

    signer = Signer.load(user_msp(ledger.state_dir, "User1"))  # type: ignore[attr-defined]
    channel = grpc.aio.insecure_channel(ledger.peer_address)  # type: ignore[attr-defined]
    stub = gateway_pb2_grpc.GatewayStub(channel)
    ch, cc = ledger.channel, ledger.chaincode_name  # type: ignore[attr-defined]

    async def submit(key: str) -> int:
        txid, proposal = signed_proposal(signer, cc, "Put", key, "v", channel=ch)
        endorsed = await stub.Endorse(
            gateway_pb2.EndorseRequest(transaction_id=txid, channel_id=ch, proposed_transaction=proposal),
            timeout=60,
        )
        payload = endorsed.prepared_transaction.payload
        await stub.Submit(
            gateway_pb2.SubmitRequest(
                transaction_id=txid,
                channel_id=ch,
                prepared_transaction=common_pb2.Envelope(payload=payload, signature=signer.sign(payload)),
            ),
            timeout=60,
        )
        request = gateway_pb2.CommitStatusRequest(
            transaction_id=txid, channel_id=ch, identity=signer.creator
        ).SerializeToString()
        status = await stub.CommitStatus(
            gateway_pb2.SignedCommitStatusRequest(request=request, signature=signer.sign(request)),
            timeout=120,
        )
        return int(status.result)

    return submit, channel.close


async def _fabric_client_submitter(
    ledger: object,
) -> tuple[Callable[[str], Awaitable[int]], Callable[[], Awaitable[None]]]:
    from fabric_client import Gateway, Timeouts
    from fabric_client.identity import load_msp_identity

    msp_dir = ledger.user("User1").cert_path.parents[1]  # type: ignore[attr-defined]
    identity, signer = load_msp_identity(ledger.msp_id, msp_dir)  # type: ignore[attr-defined]
    gateway = Gateway.connect(
        ledger.peer_address,  # type: ignore[attr-defined]
        identity,
        signer,
        timeouts=Timeouts(evaluate=30, endorse=60, submit=30, commit_status=120),
    )
    contract = gateway.network(ledger.channel).contract(ledger.chaincode_name)  # type: ignore[attr-defined]

    async def submit(key: str) -> int:
        tx = await contract.new_proposal("Put", args=[key, "v"]).endorse()
        await gateway.submit(tx)
        return int((await gateway.commit_status(tx.tx_id, channel_id=tx.channel_id)).code)

    return submit, gateway.close


async def _load(
    submit: Callable[[str], Awaitable[int]], count: int, concurrency: int, prefix: str
) -> tuple[list[float], dict[str, int]]:
    keys = iter(range(count))
    latencies: list[float] = []
    failures: dict[str, int] = {}

    async def worker() -> None:
        for i in keys:
            started = time.perf_counter()
            try:
                code = await submit(f"{prefix}-{i}")
            except Exception as exc:  # a benchmark counts failures instead of stopping
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                continue
            if code == 0:
                latencies.append(time.perf_counter() - started)
            else:
                failures[f"code_{code}"] = failures.get(f"code_{code}", 0) + 1

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return latencies, failures


async def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON line; exit 1 if any transaction failed."""
    from tests.support.ledger import running_ledger

    args = _parse(argv)
    kwargs: dict[str, object] = {"chaincode": "kv"}
    if args.batch_size is not None:
        kwargs["batch_size"] = args.batch_size
    if args.batch_timeout is not None:
        kwargs["batch_timeout"] = args.batch_timeout
    with tempfile.TemporaryDirectory(prefix="gx-devnet-bench-") as tmp:
        async with running_ledger(Path(tmp), **kwargs) as ledger:
            maker = _lean_submitter if args.client == "lean" else _fabric_client_submitter
            submit, close = await maker(ledger)
            try:
                prefix = uuid.uuid4().hex[:8]
                if args.warmup:
                    await _load(submit, args.warmup, args.concurrency, prefix + "-warm")
                cpu_before = (
                    _cpu_seconds(ledger.devnet_pid),
                    _cpu_seconds(ledger.chaincode_pid),
                    time.process_time(),
                )
                started = time.perf_counter()
                latencies, failures = await _load(submit, args.transactions, args.concurrency, prefix)
                elapsed = time.perf_counter() - started
                cpu_after = (
                    _cpu_seconds(ledger.devnet_pid),
                    _cpu_seconds(ledger.chaincode_pid),
                    time.process_time(),
                )
            finally:
                await close()
    per_tx = [
        round((a - b) / args.transactions * 1000, 3) for a, b in zip(cpu_after, cpu_before, strict=True)
    ]
    result = {
        "benchmark": "devnet committed tx/s (kv Put, blind write)",
        "client": args.client,
        "transactions": args.transactions,
        "concurrency": args.concurrency,
        "committed_valid": len(latencies),
        "failures": failures,
        "elapsed_s": round(elapsed, 3),
        "committed_tps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {
            "p50": round(_percentile(latencies, 0.5) * 1000, 1),
            "p95": round(_percentile(latencies, 0.95) * 1000, 1),
            "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
        },
        "cpu_ms_per_tx": {"devnet": per_tx[0], "chaincode": per_tx[1], "client": per_tx[2]},
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result), flush=True)
    return 0 if len(latencies) == args.transactions else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
