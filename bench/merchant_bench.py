"""Payments to one merchant vs the same payments to distinct recipients, on the GX chaincode over devnet.

    .venv/bin/python bench/merchant_bench.py [--payers 40] [--transfers 8] [--rounds 4]

Starts a devnet with the GX chaincode (real MVCC and phantom validation) in a temporary directory,
bootstraps it and creates the users (genesis gives each 500 GX). Then, per round, two scenarios with
the same load: every payer sends ``--transfers`` GX transfers one after another (a sender's own
transfers are ordered, as the outbox orders them), all payers at once —

- ``distinct``: payer i pays recipient i (nobody shares an account);
- ``merchant``: every payer pays the one merchant.

A transfer that loses an MVCC or phantom race is endorsed again against the new state and
resubmitted (what the outbox does, without spending an attempt); its retries are counted. Before
credits went to accrual keys every payment read-modified-wrote the merchant's record, so the
merchant scenario serialised into one commit per block. The goal (issue 9): the merchant's rate is
at least 80% of the distinct rate. Output: one JSON line; exit 1 if a transfer failed or the goal
was missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "gen" / "python"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from google.protobuf import json_format  # noqa: E402
from google.protobuf.message import Message  # noqa: E402
from gx.ledger.v1 import commands_pb2  # noqa: E402

from bench.stats import percentile  # noqa: E402
from fabric_client import Contract, Gateway, Network, Timeouts  # noqa: E402
from fabric_client.identity import load_identity  # noqa: E402

GX = 1_000_000
_CONFLICTS = ("MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT")
_MAX_TRIES = 50  # a benchmark must end; far above what contention needs


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payers", type=int, default=40, help="concurrent payers (and distinct recipients)")
    parser.add_argument("--transfers", type=int, default=8, help="transfers per payer per scenario run")
    parser.add_argument("--rounds", type=int, default=4, help="runs of each scenario, alternating")
    parser.add_argument("--amount-gx", type=int, default=5, help="GX per transfer (5 GX pays a 5 bps fee)")
    parser.add_argument("--batch-timeout", type=float, default=None, help="devnet batch timeout (s)")
    parser.add_argument("--batch-size", type=int, default=None, help="devnet batch size")
    parser.add_argument("--goal", type=float, default=0.8, help="merchant rate / distinct rate to reach")
    return parser.parse_args(argv)


def _json(message: Message) -> str:
    text: str = json_format.MessageToJson(message, indent=None)
    return text


def _rid() -> str:
    return str(uuid.uuid4())


async def _setup(gateways: dict[str, Gateway], users: list[str]) -> None:
    root, admin = gateways["gx_super_admin"], gateways["gx_admin"]

    async def submit(gateway: Gateway, function: str, request: Message) -> None:
        await gateway.network("gxchannel").contract("gx").submit_transaction(function, args=[_json(request)])

    await submit(root, "BootstrapSystem", commands_pb2.BootstrapSystemRequest(request_id=_rid()))
    countries = commands_pb2.InitializeCountriesRequest(request_id=_rid())
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    await submit(root, "InitializeCountries", countries)
    # One at a time: every CreateUser updates the genesis pools and the country record, so
    # concurrent ones conflict among themselves (they are not what this benchmark measures).
    for user in users:
        request = commands_pb2.CreateUserRequest(
            user_id=user, country_code="LK", date_of_birth="1990-01-01", request_id=_rid()
        )
        await submit(admin, "CreateUser", request)


async def _pay(
    network: Network,
    contract: Contract,
    gateway: Gateway,
    src: str,
    dst: str,
    amount: int,
    stats: dict[str, Any],
) -> None:
    """One transfer, rebuilt after each MVCC/phantom conflict until it commits (the outbox's rule)."""
    request = commands_pb2.TransferTokensRequest(
        from_account_id=src, to_account_id=dst, amount_qirat=amount, request_id=_rid()
    )
    started = time.perf_counter()
    for _ in range(_MAX_TRIES):
        tx = await contract.new_proposal("TransferTokens", args=[_json(request)]).endorse()
        await gateway.submit(tx)
        status = await network.commit_status(tx.tx_id)
        if status.successful:
            stats["latencies"].append(time.perf_counter() - started)
            return
        if status.code_name not in _CONFLICTS:
            break
        stats["conflicts"][status.code_name] = stats["conflicts"].get(status.code_name, 0) + 1
    stats["failed"] += 1


async def _scenario(
    gateway: Gateway, pairs: list[tuple[str, str]], transfers: int, amount: int
) -> dict[str, Any]:
    network = gateway.network("gxchannel")
    contract = network.contract("gx")
    stats: dict[str, Any] = {"latencies": [], "conflicts": {}, "failed": 0}

    async def payer(src: str, dst: str) -> None:
        for _ in range(transfers):  # one sender's transfers are ordered: one after another
            await _pay(network, contract, gateway, src, dst, amount, stats)

    started = time.perf_counter()
    await asyncio.gather(*(payer(src, dst) for src, dst in pairs))
    elapsed = time.perf_counter() - started
    return {
        "committed": len(stats["latencies"]),
        "failed": stats["failed"],
        "elapsed_s": round(elapsed, 3),
        "tps": round(len(stats["latencies"]) / elapsed, 1) if elapsed else 0.0,
        "conflict_retries": stats["conflicts"],
        "latency_ms_p50": round(percentile(stats["latencies"], 0.5) * 1000, 1),
        "latency_ms_p95": round(percentile(stats["latencies"], 0.95) * 1000, 1),
    }


def _total(runs: list[dict[str, Any]]) -> dict[str, Any]:
    committed = sum(r["committed"] for r in runs)
    elapsed = sum(r["elapsed_s"] for r in runs)
    conflicts: dict[str, int] = {}
    for r in runs:
        for code, n in r["conflict_retries"].items():
            conflicts[code] = conflicts.get(code, 0) + n
    return {
        "committed": committed,
        "failed": sum(r["failed"] for r in runs),
        "elapsed_s": round(elapsed, 3),
        "tps": round(committed / elapsed, 1) if elapsed else 0.0,
        "conflict_retries": conflicts,
        "runs_tps": [r["tps"] for r in runs],
        "latency_ms_p50": [r["latency_ms_p50"] for r in runs],
        "latency_ms_p95": [r["latency_ms_p95"] for r in runs],
    }


async def main(argv: list[str] | None = None) -> int:
    """Run both scenarios; print one JSON line with their rates and the ratio."""
    args = _parse(argv)
    from tests.support.ledger import running_ledger

    amount = args.amount_gx * GX
    payers = [_rid() for _ in range(args.payers)]
    recipients = [_rid() for _ in range(args.payers)]
    merchant = _rid()
    kwargs: dict[str, object] = {"chaincode": "gx"}
    if args.batch_timeout is not None:
        kwargs["batch_timeout"] = args.batch_timeout
    if args.batch_size is not None:
        kwargs["batch_size"] = args.batch_size
    timeouts = Timeouts(evaluate=30, endorse=60, submit=30, commit_status=120)
    with tempfile.TemporaryDirectory(prefix="gx-bench-merchant-") as tmp:
        async with running_ledger(Path(tmp), **kwargs) as ledger:
            gateways: dict[str, Gateway] = {}
            for role in ("gx_super_admin", "gx_admin", "gx_partner_api"):
                who = ledger.user(role)
                identity, signer = load_identity(who.msp_id, who.cert_path, who.key_path)
                gateways[role] = Gateway.connect(ledger.peer_address, identity, signer, timeouts=timeouts)
            try:
                setup_started = time.perf_counter()
                await _setup(gateways, [merchant, *payers, *recipients])
                setup_s = time.perf_counter() - setup_started
                partner = gateways["gx_partner_api"]
                distinct_pairs = list(zip(payers, recipients, strict=True))
                merchant_pairs = [(p, merchant) for p in payers]
                # A short warm-up of each, then the scenarios alternate, and which goes first alternates
                # too, so neither always gets the warmer peer or the quieter machine.
                await _scenario(partner, distinct_pairs, 1, amount)
                await _scenario(partner, merchant_pairs, 1, amount)
                distinct: list[dict[str, Any]] = []
                to_merchant: list[dict[str, Any]] = []
                for n in range(args.rounds):
                    order = [(distinct, distinct_pairs), (to_merchant, merchant_pairs)]
                    for runs, pairs in order if n % 2 == 0 else order[::-1]:
                        runs.append(await _scenario(partner, pairs, args.transfers, amount))
            finally:
                for gateway in gateways.values():
                    await gateway.close()
    result = {
        "payers": args.payers,
        "transfers_per_payer": args.transfers,
        "rounds": args.rounds,
        "amount_gx": args.amount_gx,
        "setup_s": round(setup_s, 1),
        "distinct": _total(distinct),
        "merchant": _total(to_merchant),
    }
    ratio = result["merchant"]["tps"] / result["distinct"]["tps"] if result["distinct"]["tps"] else 0.0
    result["merchant_over_distinct"] = round(ratio, 3)
    result["goal"] = args.goal
    result["goal_met"] = ratio >= args.goal
    print(json.dumps(result))
    failed = result["distinct"]["failed"] + result["merchant"]["failed"]
    return 0 if failed == 0 and result["goal_met"] else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
