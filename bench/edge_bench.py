"""Edge overhead: the same unary RPC over REST through Envoy, over gRPC through Envoy, and over direct gRPC.

The backend is the stand-in identity server from tests/support (a fixed answer, no database),
run as its own process, so the figures isolate what the edge adds (JWT check, Lua, transcoding)
from any service's own cost. Envoy is started with the launcher's own config builder.

    .venv/bin/python -m bench edge          # or: .venv/bin/python bench/edge_bench.py --seconds 5

It then measures what every GX server pays per call outside its handler (`server_overhead_*`):
the same no-op GetUser served by `bench/gx_backend.py` behind the GX server factory (the whole call
chain, a real ES256 token) and behind a bare grpc.aio server, each on uvloop and on asyncio's own
loop, called directly, and the GX server's wrapped handlers on the lane (`server_overhead_gx_lane_uvloop`,
services.common.lane); `server_cpu_ms_per_req` is that process's CPU per call. Last, the same backend
behind the real Envoy, REST, served by grpc.aio and by the lane (`rest_via_envoy_gx_uvloop`,
`rest_via_envoy_gx_lane_uvloop`): the backend's CPU per REST call.

On the 2-core dev machine the load generator, Envoy and the backend share the CPU, so these
figures describe this machine, not the design. Output: one JSON line per path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.stats import cpu_seconds  # noqa: E402

_USER_ID = "3f2c0a4e-8d7b-4c1e-9a55-0d6f1e2b7c90"
# Requests in flight of bench/wallet_bench.py's reads (its --concurrency default).
_READS_IN_FLIGHT = 16


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="edge_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per path (default 5)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument(
        "--server-overhead-only", action="store_true", help="only the server_overhead_* rows (no Envoy)"
    )
    parser.add_argument(
        "--gx-behind-envoy-only",
        action="store_true",
        help="only the rest_via_envoy_gx_* rows (grpc.aio vs lane)",
    )
    return parser.parse_args(argv)


async def _measure(
    name: str,
    call: Callable[[], Awaitable[object]],
    seconds: float,
    concurrency: int,
    server_pid: int | None = None,
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

    warm = time.monotonic() + min(1.0, seconds / 5)
    await asyncio.gather(*(worker(warm) for _ in range(concurrency)))
    latencies.clear()
    errors = 0
    cpu_before = cpu_seconds(server_pid)
    started = time.monotonic()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(server_pid) - cpu_before
    ordered = sorted(latencies)
    pct = (
        (lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2))
        if ordered
        else (lambda q: None)
    )
    return {
        "path": name,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
        "errors": errors,
        "concurrency": concurrency,
        **(
            {
                "server_cpu_ms_per_req": round(cpu * 1000 / max(1, len(latencies)), 4),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
            if server_pid is not None
            else {}
        ),
    }


class _KeepAlive:
    """A minimal HTTP/1.1 keep-alive client: httpx costs more CPU per request than Envoy does, and
    on a 2-core machine the generator's own cost would be measured instead of the edge."""

    def __init__(self, address: str, path: str, token: str) -> None:
        self._host, _, port = address.rpartition(":")
        self._port = int(port)
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
        self._pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self) -> bytes:
        """One GET of the path; its body."""
        conn = self._pool.pop() if self._pool else await asyncio.open_connection(self._host, self._port)
        reader, writer = conn
        writer.write(self._request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length)
        self._pool.append(conn)
        if status != 200:
            raise RuntimeError(f"HTTP {status}")
        return body

    async def close(self) -> None:
        for _, writer in self._pool:
            writer.close()


async def _run(args: argparse.Namespace, edge: str, direct: str, token: str) -> list[dict[str, object]]:
    import grpc
    from gx.identity.v1 import identity_service_pb2, identity_service_pb2_grpc

    results = []
    client = _KeepAlive(edge, f"/v1/users/{_USER_ID}", token)
    try:
        results.append(await _measure("rest_via_envoy", client.get, args.seconds, args.concurrency))
        # The wallet benchmark drives its reads 16 at a time, and the ceiling rises with requests in
        # flight (more of them share each read and write): the same ceiling at 16, to compare like
        # for like. The goals are stated against the row above.
        if args.concurrency != _READS_IN_FLIGHT:
            results.append(
                await _measure(
                    f"rest_via_envoy_c{_READS_IN_FLIGHT}", client.get, args.seconds, _READS_IN_FLIGHT
                )
            )
    finally:
        await client.close()

    request = identity_service_pb2.GetUserRequest(user_id=_USER_ID)
    metadata = (("authorization", f"Bearer {token}"),)
    for name, target in (("grpc_via_envoy", edge), ("grpc_direct", direct)):
        async with grpc.aio.insecure_channel(target) as channel:
            stub = identity_service_pb2_grpc.IdentityServiceStub(channel)

            async def call(stub: identity_service_pb2_grpc.IdentityServiceStub = stub) -> None:
                await stub.GetUser(request, metadata=metadata, timeout=10)

            results.append(await _measure(name, call, args.seconds, args.concurrency))
    return results


async def _drive_backend(
    args: argparse.Namespace, name: str, port: int, token: str, pid: int
) -> dict[str, object]:
    import grpc
    from gx.identity.v1 import identity_service_pb2, identity_service_pb2_grpc

    request = identity_service_pb2.GetUserRequest(user_id="me")
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = identity_service_pb2_grpc.IdentityServiceStub(channel)

        async def call() -> None:
            await stub.GetUser(request, metadata=metadata, timeout=10)

        return await _measure(name, call, args.seconds, args.concurrency, pid)


def _server_overhead(args: argparse.Namespace) -> list[dict[str, object]]:
    """The no-op GetUser behind the GX server factory and behind bare grpc.aio, on each loop; and
    the GX server's same wrapped handlers served by the lane (services.common.lane) on uvloop."""
    results = []
    for server, loop in (
        ("gx", "uvloop"),
        ("gx", "asyncio"),
        ("bare", "uvloop"),
        ("bare", "asyncio"),
        ("gx-lane", "uvloop"),
    ):
        argv = [str(REPO_ROOT / "bench" / "gx_backend.py"), "--server", server, "--loop", loop]
        with _backend(argv, behind_envoy=False) as (_, port, token, pid):
            name = f"server_overhead_{server.replace('-', '_')}_{loop}"
            results.append(asyncio.run(_drive_backend(args, name, port, token, pid)))
    return results


@contextlib.contextmanager
def _backend(
    argv: list[str], *, behind_envoy: bool, services: tuple[str, ...] = ("identity",)
) -> Iterator[tuple[str, int, str, int]]:
    """Run a stand-in backend (`python <argv>`: it prints its port, then a token), with the dev stack's
    Envoy in front of it when `behind_envoy`, routing the domains of `services` to it; yields (edge
    address or "", backend port, token, backend pid)."""
    from devstack.config import StackConfig
    from devstack.parts import EdgePart, StackView
    from tests.support.stack import make_temp_dir

    backend = subprocess.Popen([sys.executable, *argv], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    root = make_temp_dir("gx-edge-bench-")
    part = EdgePart(services=services)
    cfg = StackConfig.on_free_ports(root)
    try:
        assert backend.stdout is not None
        port = int(backend.stdout.readline())
        token = backend.stdout.readline().strip()
        edge = ""
        if behind_envoy:
            for service in services:
                cfg = cfg.served_at(service, port)
            part.start(cfg, StackView(names=[*services, "edge"]))
            part.wait_healthy(cfg)
            edge = cfg.address("edge")
        yield edge, port, token, backend.pid
    finally:
        if behind_envoy:
            part.stop(cfg)
        backend.terminate()
        backend.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def _gx_behind_envoy(args: argparse.Namespace) -> list[dict[str, object]]:
    """REST through Envoy to the no-op GetUser behind the GX chain, served by grpc.aio and by the lane.

    `server_cpu_ms_per_req` is the backend's CPU per REST call: what the lane saves on Envoy's calls.
    """
    results = []
    for server in ("gx", "gx-lane"):
        argv = [str(REPO_ROOT / "bench" / "gx_backend.py"), "--server", server, "--loop", "uvloop"]
        with _backend(argv, behind_envoy=True) as (edge, _, token, pid):
            client = _KeepAlive(edge, f"/v1/users/{_USER_ID}", token)

            async def measure(name: str, client: _KeepAlive = client, pid: int = pid) -> dict[str, object]:
                try:
                    return await _measure(name, client.get, args.seconds, args.concurrency, pid)
                finally:
                    await client.close()

            results.append(asyncio.run(measure(f"rest_via_envoy_{server.replace('-', '_')}_uvloop")))
    return results


def main(argv: list[str] | None = None) -> int:
    """Start the stand-in backend and Envoy on free ports, measure the three paths, print JSON lines."""
    args = _parse(argv)
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]
    if args.server_overhead_only:
        for line in _server_overhead(args):
            print(json.dumps(line), flush=True)
        return 0
    if args.gx_behind_envoy_only:
        for line in _gx_behind_envoy(args):
            print(json.dumps(line), flush=True)
        return 0
    with _backend(["-m", "tests.support.edge_backend"], behind_envoy=True) as (edge, port, token, _):
        for line in asyncio.run(_run(args, edge, f"127.0.0.1:{port}", token)):
            print(json.dumps(line), flush=True)
    for line in _server_overhead(args):
        print(json.dumps(line), flush=True)
    for line in _gx_behind_envoy(args):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
