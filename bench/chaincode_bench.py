"""The chaincode's cost per GX transfer: shim traffic and decodes (counted), CPU in process and on the devnet.

    .venv/bin/python -m bench chaincode      # or: .venv/bin/python bench/chaincode_bench.py [--transfers 400]

Two parts, one JSON line:

- In process (``tests/chaincode/fake_ledger.py``, the peer the rule tests use): one plain transfer
  between two users of one country, with a fee (5 GX) and without (1 GX), counting the shim calls the
  chaincode makes (GetState, GetStateByRange, PutState/DelState) and the proto JSON decodes; then
  ``--inprocess`` transfers back and forth, timing the chaincode's CPU per transfer (the fake peer's
  dict lookups included). Counts are deterministic; ``tests/chaincode/test_shim_traffic.py`` pins them.
  ``with_fee_peer_batching``: the requests of the same transfer when the peer offers Fabric 3.1's
  batched calls, as devnet does (``chaincode/shim_batch.py``), and the stream messages they make.
- On the devnet (``python -m chaincode`` over the real shim protocol): ``--transfers`` fee-paying
  transfers, ``--payers`` senders at once (each one's own transfers in order, as the outbox orders
  them), through fabric_client. Reports committed transfers/s and the CPU the chaincode and devnet
  processes spent per committed transfer (/proc), which is what bounds the rate on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "gen" / "python"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from google.protobuf import json_format  # noqa: E402
from gx.ledger.v1 import commands_pb2  # noqa: E402

from bench.stats import cpu_seconds  # noqa: E402

GX = 1_000_000
_CONFLICTS = ("MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inprocess", type=int, default=2000, help="timed in-process transfers")
    parser.add_argument("--transfers", type=int, default=400, help="transfers through the devnet")
    parser.add_argument("--payers", type=int, default=20, help="concurrent senders on the devnet")
    parser.add_argument("--amount-gx", type=int, default=5, help="GX per devnet transfer (5 GX pays a fee)")
    parser.add_argument("--batch-timeout", type=float, default=0.05, help="devnet batch timeout (s)")
    parser.add_argument("--skip-devnet", action="store_true", help="only the in-process part")
    return parser.parse_args(argv)


def _rid() -> str:
    return str(uuid.uuid4())


@contextlib.contextmanager
def _counting_decodes() -> Iterator[list[int]]:
    """Count chaincode.codec.parse calls (every proto JSON decode the chaincode makes)."""
    from chaincode import codec

    calls = [0]
    original = codec.parse

    def counted(text: Any, cls: Any) -> Any:
        calls[0] += 1
        return original(text, cls)

    codec.parse = counted
    try:
        yield calls
    finally:
        codec.parse = original


async def inprocess(timed: int) -> dict[str, Any]:
    """Shim calls and decodes of one transfer with and without a fee, and CPU per transfer."""
    from tests.chaincode.fake_ledger import FakeLedger

    ledger = FakeLedger()
    figures: dict[str, Any] = {}
    users = await _two_users(ledger)
    for name, amount in (("with_fee", 5 * GX), ("no_fee", GX)):
        # b → a first, so a holds a credit and the measured a → b folds one (the common case).
        await _ok(ledger, "TransferTokens", _transfer(users[1], users[0], GX), "gx_partner_api")
        with _counting_decodes() as decodes:
            out = await _ok(ledger, "TransferTokens", _transfer(users[0], users[1], amount), "gx_partner_api")
        figures[name] = {
            "get_state": len(out.reads),
            "get_state_by_range": len(out.ranges),
            "put_or_delete_state": len(out.writes),
            "shim_calls": len(out.reads) + len(out.ranges) + len(out.writes),
            "json_decodes": decodes[0],
        }
    # The same transfer where the peer offers Fabric 3.1's batched calls (devnet does): requests
    # sent, and stream messages (each request and its answer, plus TRANSACTION and COMPLETED).
    batching = FakeLedger(batching=True)
    pair = await _two_users(batching)
    await _ok(batching, "TransferTokens", _transfer(pair[1], pair[0], GX), "gx_partner_api")
    await _ok(batching, "TransferTokens", _transfer(pair[0], pair[1], 5 * GX), "gx_partner_api")
    figures["with_fee_peer_batching"] = {
        "requests": batching.round_trips,
        "shim_messages": 2 * len(batching.round_trips) + 2,
    }
    # Back and forth, so each sender folds the one credit it got (the world stays small).
    requests = [_transfer(users[i % 2], users[1 - i % 2], 5 * GX) for i in range(timed)]
    spent = 0.0
    with _timing_range_scans() as in_fake:
        for request in requests:
            arg = json_format.MessageToJson(request)
            started = time.process_time()
            out = await ledger.invoke("TransferTokens", arg, "gx_partner_api")
            spent += time.process_time() - started
            if not out.ok:
                raise RuntimeError(f"TransferTokens: {out.status} {out.message}")
    # The fake peer's range scan walks its whole dict (the fee shards grow it): not chaincode CPU.
    figures["cpu_ms_per_transfer"] = round((spent - in_fake[0]) / timed * 1000, 3)
    return figures


async def _ok(ledger: Any, function: str, request: Any, role: str = "gx_super_admin") -> Any:
    out = await ledger.invoke(function, request, role)
    if not out.ok:
        raise RuntimeError(f"{function}: {out.status} {out.message}")
    return out


def _transfer(src: str, dst: str, amount: int) -> commands_pb2.TransferTokensRequest:
    return commands_pb2.TransferTokensRequest(
        from_account_id=src, to_account_id=dst, amount_qirat=amount, request_id=_rid()
    )


async def _two_users(ledger: Any) -> list[str]:
    """Bootstrap *ledger* with one country and create two users with their genesis."""
    await _ok(ledger, "BootstrapSystem", commands_pb2.BootstrapSystemRequest(request_id=_rid()))
    countries = commands_pb2.InitializeCountriesRequest(request_id=_rid())
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    await _ok(ledger, "InitializeCountries", countries)
    users = [_rid(), _rid()]
    for user in users:
        await _ok(
            ledger,
            "CreateUser",
            commands_pb2.CreateUserRequest(
                user_id=user, country_code="LK", date_of_birth="1990-01-01", request_id=_rid()
            ),
            "gx_admin",
        )
    return users


@contextlib.contextmanager
def _timing_range_scans() -> Iterator[list[float]]:
    """Sum the CPU the fake peer spends answering GetStateByRange."""
    from tests.chaincode.fake_ledger import FakeStub

    spent = [0.0]
    original = FakeStub.get_state_by_range

    async def timed(self: Any, start: str, end: str) -> Any:
        began = time.process_time()
        try:
            return await original(self, start, end)
        finally:
            spent[0] += time.process_time() - began

    FakeStub.get_state_by_range = timed  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        FakeStub.get_state_by_range = original  # type: ignore[method-assign]


async def devnet(args: argparse.Namespace) -> dict[str, Any]:
    """Fee-paying GX transfers through the devnet: rate and CPU per committed transfer."""
    from fabric_client import Gateway, Timeouts
    from fabric_client.identity import load_identity
    from tests.support.ledger import running_ledger

    timeouts = Timeouts(evaluate=30, endorse=60, submit=30, commit_status=120)
    payers = [_rid() for _ in range(args.payers)]
    recipients = [_rid() for _ in range(args.payers)]
    with tempfile.TemporaryDirectory(prefix="gx-chaincode-bench-") as tmp:
        async with running_ledger(Path(tmp), chaincode="gx", batch_timeout=args.batch_timeout) as ledger:
            gateways: dict[str, Gateway] = {}
            for role in ("gx_super_admin", "gx_admin", "gx_partner_api"):
                who = ledger.user(role)
                identity, signer = load_identity(who.msp_id, who.cert_path, who.key_path)
                gateways[role] = Gateway.connect(ledger.peer_address, identity, signer, timeouts=timeouts)
            try:

                async def submit(role: str, function: str, request: Any) -> None:
                    contract = gateways[role].network(ledger.channel).contract(ledger.chaincode_name)
                    await contract.submit_transaction(function, args=[json_format.MessageToJson(request)])

                await submit(
                    "gx_super_admin",
                    "BootstrapSystem",
                    commands_pb2.BootstrapSystemRequest(request_id=_rid()),
                )
                countries = commands_pb2.InitializeCountriesRequest(request_id=_rid())
                countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
                await submit("gx_super_admin", "InitializeCountries", countries)
                for user in [*payers, *recipients]:  # one at a time: CreateUsers conflict among themselves
                    await submit(
                        "gx_admin",
                        "CreateUser",
                        commands_pb2.CreateUserRequest(
                            user_id=user, country_code="LK", date_of_birth="1990-01-01", request_id=_rid()
                        ),
                    )

                gateway = gateways["gx_partner_api"]
                network = gateway.network(ledger.channel)
                contract = network.contract(ledger.chaincode_name)
                conflicts = 0
                committed = 0

                async def pay(src: str, dst: str) -> None:
                    nonlocal conflicts, committed
                    request = commands_pb2.TransferTokensRequest(
                        from_account_id=src,
                        to_account_id=dst,
                        amount_qirat=args.amount_gx * GX,
                        request_id=_rid(),
                    )
                    for _ in range(50):
                        tx = await contract.new_proposal(
                            "TransferTokens", args=[json_format.MessageToJson(request)]
                        ).endorse()
                        await gateway.submit(tx)
                        status = await network.commit_status(tx.tx_id)
                        if status.successful:
                            committed += 1
                            return
                        if status.code_name not in _CONFLICTS:
                            raise RuntimeError(f"transfer failed: {status.code_name}")
                        conflicts += 1

                per_payer = max(1, args.transfers // args.payers)

                async def payer(src: str, dst: str) -> None:
                    for _ in range(per_payer):
                        await pay(src, dst)

                pairs = list(zip(payers, recipients, strict=True))
                await asyncio.gather(*(pay(src, dst) for src, dst in pairs))  # warm-up
                committed = conflicts = 0
                before = (
                    cpu_seconds(ledger.chaincode_pid),
                    cpu_seconds(ledger.devnet_pid),
                    time.process_time(),
                )
                started = time.perf_counter()
                await asyncio.gather(*(payer(src, dst) for src, dst in pairs))
                elapsed = time.perf_counter() - started
                after = (
                    cpu_seconds(ledger.chaincode_pid),
                    cpu_seconds(ledger.devnet_pid),
                    time.process_time(),
                )
            finally:
                for gw in gateways.values():
                    await gw.close()
    per_tx = [
        round((a - b) / committed * 1000, 3) if committed else None
        for a, b in zip(after, before, strict=True)
    ]
    return {
        "transfers": committed,
        "conflict_retries": conflicts,
        "elapsed_s": round(elapsed, 3),
        "devnet_gx_transfers_per_s": round(committed / elapsed, 1) if elapsed else 0.0,
        "cpu_ms_per_transfer": {"chaincode": per_tx[0], "devnet": per_tx[1], "client": per_tx[2]},
    }


async def main(argv: list[str] | None = None) -> int:
    """Run both parts and print one JSON line."""
    args = _parse(argv)
    figures: dict[str, Any] = {
        "benchmark": "chaincode per GX transfer",
        "inprocess": await inprocess(args.inprocess),
    }
    if not args.skip_devnet:
        figures["devnet"] = await devnet(args)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(asyncio.run(main()))
