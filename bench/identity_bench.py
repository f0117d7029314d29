"""Identity figures: logins/s, token verifications/s, and GetProfile over REST via Envoy vs direct gRPC.

Runs the real stack (embedded PostgreSQL, Redis, migrations, the identity process and Envoy) on
free ports with the same launcher as `gx dev up`, then measures:

- `login`: Login over direct gRPC, each call an Argon2id verify (m=19 MiB, t=2, p=1) plus a
  refresh-token insert and an ES256 signature;
- `verify`: access-token verification in this process with the runtime's TokenVerifier
  (ES256 signature and claim checks), synchronously and through its async key lookup;
- `get_profile_rest_envoy` / `get_profile_grpc_direct`: `GET /v1/users/me` through Envoy (JWT
  check at the edge, transcoding, the service's own check) against the same GetUser RPC
  straight to identity, with p50/p99 and the CPU per request of identity, Envoy and PostgreSQL
  (`<process>_cpu_ms_per_req`, as `wallet_bench`; the load average beside them).

    .venv/bin/python bench/identity_bench.py --profiles-only   # the profile reads alone

    .venv/bin/python -m bench identity     # or: .venv/bin/python bench/identity_bench.py --seconds 5

The load generator, Envoy, identity, PostgreSQL and Redis share the machine's cores, so these
figures describe this machine, not the design. Output: one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import wallet_bench  # noqa: E402  (after the repository root is importable)

_PASSWORD = "Bench pass phrase 2026"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="identity_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per figure (default 5)")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="requests in flight for GetProfile (default 8)"
    )
    parser.add_argument("--login-concurrency", type=int, default=4, help="logins in flight (default 4)")
    parser.add_argument(
        "--profiles-only", action="store_true", help="one login for a token, then the GetProfile rows only"
    )
    return parser.parse_args(argv)


def _summary(
    name: str, latencies: list[float], errors: int, elapsed: float, concurrency: int
) -> dict[str, object]:
    ordered = sorted(latencies)

    def pct(q: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2) if ordered else None

    return {
        "measure": name,
        "per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
        "errors": errors,
        "concurrency": concurrency,
    }


async def _measure(
    name: str,
    call: Callable[[], Awaitable[None]],
    seconds: float,
    concurrency: int,
    pids: dict[str, int] | None = None,
) -> dict[str, object]:
    latencies: list[float] = []
    errors = 0

    async def worker(deadline: float) -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                await call()
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(time.monotonic() + min(1.0, seconds / 5)) for _ in range(concurrency)))
    latencies.clear()
    errors = 0
    cpu_before = wallet_bench._cpu_now(pids or {})
    started = time.monotonic()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    cpu_after = wallet_bench._cpu_now(pids or {})
    summary = _summary(name, latencies, errors, elapsed, concurrency)
    if pids:
        # CPU per request of each server process (identity, Envoy, PostgreSQL's cluster): what a
        # change costs or saves, which the shared machine's requests/s cannot say.
        calls = max(1, len(latencies))
        for part in pids:
            summary[f"{part}_cpu_ms_per_req"] = round((cpu_after[part] - cpu_before[part]) * 1000 / calls, 3)
        summary["load_average_1m"] = round(os.getloadavg()[0], 2)
    return summary


class _KeepAliveGet:
    """A minimal HTTP/1.1 keep-alive GET client, so the generator's CPU cost stays small next to
    Envoy's and identity's (httpx would cost more per request than the edge itself)."""

    def __init__(self, address: str, path: str, token: str) -> None:
        self._host, _, port = address.rpartition(":")
        self._port = int(port)
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        self._pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self) -> None:
        reader, writer = (
            self._pool.pop() if self._pool else await asyncio.open_connection(self._host, self._port)
        )
        writer.write(self._request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        self._pool.append((reader, writer))
        if status != 200:
            raise RuntimeError(f"HTTP {status}")

    async def close(self) -> None:
        for _, writer in self._pool:
            writer.close()


async def _logins(direct: str, args: argparse.Namespace) -> tuple[dict[str, object], str]:
    import grpc
    from gx.identity.v1 import identity_service_pb2 as svc
    from gx.identity.v1 import identity_service_pb2_grpc

    async with grpc.aio.insecure_channel(direct) as channel:
        stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
        emails = [f"bench-{uuid.uuid4().hex[:10]}@example.com" for _ in range(args.login_concurrency)]
        for email in emails:
            await stub.RegisterUser(svc.RegisterUserRequest(email=email, password=_PASSWORD))
        turn = iter(range(1 << 62))
        token = ""

        async def login() -> None:
            nonlocal token
            email = emails[next(turn) % len(emails)]
            reply = await stub.Login(svc.LoginRequest(email=email, password=_PASSWORD), timeout=30)
            token = reply.access_token

        result = await _measure("login_grpc_direct", login, args.seconds, args.login_concurrency)
        return result, token


def _verifications(keys_dir: Path, token: str, seconds: float) -> list[dict[str, object]]:
    from services.common.auth import StaticKeySource, TokenVerifier
    from services.identity.keys import KeyStore

    store = KeyStore.open(keys_dir)
    verifier = TokenVerifier(StaticKeySource(store.public_keys()), issuer="gx-identity", audience="gx-api")
    key = store.public_keys()[store.current.kid]
    out = []
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        verifier.verify_with_key(token, key)
        count += 1
    out.append({"measure": "verify_token_sync", "per_s": round(count / (time.perf_counter() - started), 1)})

    async def run_async() -> float:
        n = 0
        begin = time.perf_counter()
        while time.perf_counter() - begin < seconds:
            await verifier.verify(token)
            n += 1
        return n / (time.perf_counter() - begin)

    out.append({"measure": "verify_token_async_lookup", "per_s": round(asyncio.run(run_async()), 1)})
    return out


async def _profiles(
    edge: str, direct: str, token: str, args: argparse.Namespace, pids: dict[str, int]
) -> list[dict[str, object]]:
    import grpc
    from gx.identity.v1 import identity_service_pb2 as svc
    from gx.identity.v1 import identity_service_pb2_grpc

    results = []
    client = _KeepAliveGet(edge, "/v1/users/me", token)
    try:
        results.append(
            await _measure("get_profile_rest_envoy", client.get, args.seconds, args.concurrency, pids)
        )
    finally:
        await client.close()
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(direct) as channel:
        stub = identity_service_pb2_grpc.IdentityServiceStub(channel)

        async def call() -> None:
            await stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=metadata, timeout=10)

        results.append(await _measure("get_profile_grpc_direct", call, args.seconds, args.concurrency, pids))
    return results


def main(argv: list[str] | None = None) -> int:
    """Start the stack on free ports, take every measurement, print JSON lines."""
    args = _parse(argv)
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]
    from tests.support.stack import running_edge_stack

    lines: list[dict[str, Any]] = []
    with running_edge_stack(parts=("postgres", "redis", "migrations", "identity", "edge")) as stack:
        pids = wallet_bench.server_pids(stack, {"identity": "identity", "edge": "edge"})
        direct = stack.grpc["identity"]
        if args.profiles_only:
            args.seconds, seconds = 0.5, args.seconds
            _, token = asyncio.run(_logins(direct, args))
            args.seconds = seconds
        else:
            login, token = asyncio.run(_logins(direct, args))
            lines.append(login)
            lines += _verifications(stack.keys_dir, token, args.seconds)
        lines += asyncio.run(_profiles(stack.edge_address, direct, token, args, pids))
    for line in lines:
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
