"""Wallet throughput: transfer accepts/s (and p99), balance and history reads/s, through Envoy (REST) and over direct gRPC.

The stack (PostgreSQL, Redis, migrations, identity, wallet, Envoy) is started on free ports with
the same launcher as `gx dev up`. Users log in through identity (real ES256 tokens); their ledger
users, wallets and some history are seeded in the read models (the projector's job, out of the
picture here), so a transfer "accept" is the whole service path: token check, validation, the
read-model checks and fee in one statement, then the outbox row, its idempotency record (with a
PostgreSQL advisory lock as the in-flight marker) and NOTIFY in a second one, and the 202 answer:
two PostgreSQL round trips, no Redis. No outbox worker runs, so nothing is submitted.

    .venv/bin/python -m bench wallet        # or: .venv/bin/python bench/wallet_bench.py --seconds 5

On the 2-core dev machine the load generator, Envoy, the wallet, PostgreSQL and Redis share the
CPU, so these figures describe this machine. Output: one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import statistics
import sys
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.stats import cpu_seconds as _cpu_seconds  # noqa: E402

_PASSWORD = "Wallet bench pass 2026!"
_GX = 1_000_000
_HISTORY_ROWS = 20


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wallet_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per path (default 5)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--senders", type=int, default=16, help="distinct sending users (default 16)")
    return parser.parse_args(argv)


def _tree_cpu_seconds(pid: int | None) -> float:
    """CPU seconds of a process and its live children so far: PostgreSQL's postmaster and its backends."""
    if pid is None:
        return 0.0
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _postmaster(database_url: str) -> int | None:
    """The pid of the PostgreSQL server listening on the URL's port (it writes no pid file of the stack's)."""
    import psutil

    port = database_url.rsplit(":", 1)[1].split("/", 1)[0]
    for process in psutil.process_iter(["name", "cmdline", "ppid"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" and f"-p {port} " in f"{cmdline} ":
            return int(process.pid)
    return None


def server_pids(stack: Any, names: Mapping[str, str]) -> dict[str, int]:
    """The pids of a running stack's parts under the names given (part -> name), and PostgreSQL's
    postmaster as `postgres`: on 2 cores it competes with the servers for every request."""
    from devstack import processes

    pids = {}
    for part, name in names.items():
        record = processes.read_pid_file(stack.config.pid_path(part))
        if record is not None:
            pids[name] = record.pid
    postmaster = _postmaster(stack.database_url)
    if postmaster is not None:
        pids["postgres"] = postmaster
    return pids


def history_pages(stack: Any) -> dict[str, float]:
    """The wallet's own history reads so far, by whether a kept page answered (`hit`) or
    PostgreSQL did (`miss`): `gx_wallet_history_pages_total` from its metrics port."""
    address = stack.config.address("wallet_metrics")
    body = urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode()
    found = re.findall(r'^gx_wallet_history_pages_total\{result="(\w+)"\} (\S+)$', body, re.MULTILINE)
    return {result: float(value) for result, value in found}


def kept_share(before: Mapping[str, float], after: Mapping[str, float]) -> float | None:
    """Of the history reads between two `history_pages` readings, the share a kept page answered."""
    hits = after.get("hit", 0.0) - before.get("hit", 0.0)
    reads = hits + after.get("miss", 0.0) - before.get("miss", 0.0)
    return round(hits / reads, 3) if reads else None


def _cpu_now(pids: dict[str, int]) -> dict[str, float]:
    # `postgres` is a cluster (a backend per connection), the others single processes.
    return {
        name: _tree_cpu_seconds(pid) if name == "postgres" else _cpu_seconds(pid)
        for name, pid in pids.items()
    }


async def _measure(
    name: str, call: Callable[[], Awaitable[None]], seconds: float, concurrency: int, pids: dict[str, int]
) -> dict[str, object]:
    latencies: list[float] = []
    errors: list[str] = []

    async def worker(deadline: float) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                await call()
            except Exception as exc:
                errors.append(str(exc)[:200])
                continue
            latencies.append(time.perf_counter() - started)

    warm = time.monotonic() + min(1.0, seconds / 5)
    await asyncio.gather(*(worker(warm) for _ in range(concurrency)))
    latencies.clear()
    errors.clear()
    cpu_before = _cpu_now(pids)
    started = time.monotonic()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    cpu_after = _cpu_now(pids)
    cpu = {name: cpu_after[name] - cpu_before[name] for name in pids}
    ordered = sorted(latencies)

    def pct(q: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2) if ordered else None

    return {
        "path": name,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "concurrency": concurrency,
        # CPU per request of each server process: what the figures would be on free cores
        # (1000 / wallet_cpu_ms is the wallet process's ceiling per core).
        **{f"{name}_cpu_ms_per_req": round(c * 1000 / max(1, len(latencies)), 3) for name, c in cpu.items()},
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


class _Http:
    """A minimal HTTP/1.1 keep-alive client: httpx would cost more CPU per request than the
    service, and on a 2-core machine the generator's cost would be measured instead."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._host, _, port = address.rpartition(":")
        self._port = int(port)
        self._pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(
        self,
        method: str,
        path: str,
        token: str,
        body: bytes = b"",
        expect: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """One request; `headers` (e.g. an API key alone) replace the bearer `token`'s Authorization."""
        conn = self._pool.pop() if self._pool else await asyncio.open_connection(self._host, self._port)
        reader, writer = conn
        credentials = (
            "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            if headers is not None
            else f"Authorization: Bearer {token}\r\n"
        )
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._address}\r\n{credentials}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head + body)
        answer = await reader.readuntil(b"\r\n\r\n")
        status = int(answer.split(b" ", 2)[1])
        length = 0
        for line in answer.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        payload = await reader.readexactly(length)
        self._pool.append(conn)
        if status != expect:
            raise RuntimeError(f"HTTP {status}: {payload[:200]!r}")
        return payload

    async def close(self) -> None:
        for _, writer in self._pool:
            writer.close()


async def _users(http: _Http, count: int) -> list[tuple[str, str]]:
    """Register and log in `count` users through the edge; (user id, access token) each."""
    users = []
    for _ in range(count):
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        body = json.dumps({"email": email, "password": _PASSWORD, "countryCode": "LK"}).encode()
        user_id = json.loads(await http.request("POST", "/v1/users:register", "", body))["user"]["userId"]
        login = json.dumps({"email": email, "password": _PASSWORD}).encode()
        users.append(
            (user_id, json.loads(await http.request("POST", "/v1/auth:login", "", login))["accessToken"])
        )
    return users


async def _seed(database_url: str, user_ids: list[str]) -> None:
    """Ledger users and wallets in the read models, as the projector would have made them."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO ledger.system_status (id, bootstrapped, total_supply_qirat, block_number)"
                    " VALUES (1, true, 1250000000000000000, 1) ON CONFLICT (id) DO NOTHING"
                )
            )
            for uid in user_ids:
                await conn.execute(
                    text(
                        "INSERT INTO ledger.users (user_id, country_code, status, genesis_received, block_number,"
                        " fabric_tx_id) VALUES (:u, 'LK', 'ACTIVE', true, 2, 'seed')"
                    ),
                    {"u": uid},
                )
                await conn.execute(
                    text(
                        "INSERT INTO ledger.wallets (wallet_id, account_type, user_id, country_code, balance_qirat,"
                        " block_number, fabric_tx_id, create_time, update_time)"
                        " VALUES (:u, 'USER', :u, 'LK', :bal, 2, 'seed', now(), now())"
                    ),
                    {"u": uid, "bal": 1_000_000_000 * _GX},
                )
                # A page of history for the history read (the default page is 50 rows).
                await conn.execute(
                    text(
                        "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type,"
                        " amount_qirat, fee_qirat, counterparty, remark, block_number, time)"
                        " SELECT 'seed-' || :u || '-' || i, 0, 0, :u, 'RECEIVED', :amount, 0, 'someone', 'seed', 2,"
                        " now() - make_interval(secs => i) FROM generate_series(1, :rows) i"
                    ),
                    {"u": uid, "amount": _GX, "rows": _HISTORY_ROWS},
                )
    finally:
        await engine.dispose()


async def _run(args: argparse.Namespace, stack: object, pids: dict[str, int]) -> list[dict[str, object]]:
    import grpc
    from gx.wallet.v1 import wallet_service_pb2 as svc
    from gx.wallet.v1 import wallet_service_pb2_grpc

    edge: str = stack.edge_address  # type: ignore[attr-defined]
    direct: str = stack.grpc["wallet"]  # type: ignore[attr-defined]
    http = _Http(edge)
    results: list[dict[str, object]] = []
    try:
        users = await _users(http, args.senders + 1)
        await _seed(stack.database_url, [u for u, _ in users])  # type: ignore[attr-defined]
        (recipient, _), senders = users[0], users[1:]
        turn = itertools.cycle(senders)
        body = {"toUserId": recipient, "amountQirat": str(_GX), "remark": "bench"}

        async def rest_transfer() -> None:
            _, token = next(turn)
            payload = json.dumps({**body, "requestId": str(uuid.uuid4())}).encode()
            await http.request("POST", "/v1/wallets/me:transfer", token, payload, expect=202)

        async def rest_balance() -> None:
            _, token = next(turn)
            await http.request("GET", "/v1/wallets/me", token)

        async def rest_history() -> None:
            _, token = next(turn)
            await http.request("GET", "/v1/wallets/me/transactions", token)

        results.append(
            await _measure(
                "transfer_accept_rest_via_envoy", rest_transfer, args.seconds, args.concurrency, pids
            )
        )
        results.append(
            await _measure("balance_read_rest_via_envoy", rest_balance, args.seconds, args.concurrency, pids)
        )
        pages_before = history_pages(stack)
        history = await _measure(
            "history_read_rest_via_envoy", rest_history, args.seconds, args.concurrency, pids
        )
        # How many reads a kept page answered (services/wallet/history_pages.py): here every user's
        # history is quiet while it is read, so nearly all; a read with new entries costs what a
        # read without kept pages did.
        history["history_pages_kept_share"] = kept_share(pages_before, history_pages(stack))
        results.append(history)

        async with grpc.aio.insecure_channel(direct) as channel:
            stub = wallet_service_pb2_grpc.WalletServiceStub(channel)

            async def grpc_transfer() -> None:
                _, token = next(turn)
                request = svc.TransferRequest(
                    wallet_id="me",
                    request_id=str(uuid.uuid4()),
                    to_user_id=recipient,
                    amount_qirat=_GX,
                    remark="bench",
                )
                await stub.Transfer(request, metadata=(("authorization", f"Bearer {token}"),), timeout=10)

            async def grpc_balance() -> None:
                _, token = next(turn)
                await stub.GetWallet(
                    svc.GetWalletRequest(wallet_id="me"),
                    metadata=(("authorization", f"Bearer {token}"),),
                    timeout=10,
                )

            results.append(
                await _measure(
                    "transfer_accept_grpc_direct", grpc_transfer, args.seconds, args.concurrency, pids
                )
            )
            results.append(
                await _measure("balance_read_grpc_direct", grpc_balance, args.seconds, args.concurrency, pids)
            )
    finally:
        await http.close()
    return results


def main(argv: list[str] | None = None) -> int:
    """Start the stack on free ports, measure the five paths, print JSON lines."""
    args = _parse(argv)
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]
    from tests.support.stack import running_edge_stack

    with running_edge_stack(parts=("postgres", "redis", "migrations", "identity", "wallet", "edge")) as stack:
        pids = server_pids(stack, {"wallet": "wallet", "edge": "edge"})
        for line in asyncio.run(_run(args, stack, pids)):
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
