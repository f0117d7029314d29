"""The wallet's balance and history reads in process, without the transport: CPU per call of our part.

Each call runs the wallet's real call chain (request context and its log line, metrics, error
mapping, token check against the revocation list in Redis, validation, the client address) around
the real servicer method, over real PostgreSQL, driven with a stand-in servicer context instead of
grpc.aio. What is left is what the wallet's own code costs per read.

    .venv/bin/python bench/read_profile.py                        # start PostgreSQL and Redis, measure
    .venv/bin/python bench/read_profile.py --setup-only           # start, seed, print the URLs, wait
    .venv/bin/python bench/read_profile.py --database-url U --redis-url R --calls 2000 --path history
    .venv/bin/python bench/read_profile.py ... --cprofile out.prof   # cProfile of the measured calls

Instruction counts: run twice under `valgrind --tool=callgrind` against a `--setup-only` stack with
different `--calls`; the difference of the totals divided by the difference of the calls is the
cost of one read. Output: one JSON line per path (CPU microseconds per call of this process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

_ISSUER = "gx-identity"
_AUDIENCE = "gx-api"
_HISTORY_ROWS = 20  # as bench/wallet_bench.py seeds
_USERS = 16


class StandInContext:
    """What the call chain and the read handlers ask of a grpc.aio servicer context."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata
        self.aborted: Any = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:40000"

    def code(self) -> Any:
        return None

    def time_remaining(self) -> float | None:
        return None

    async def send_initial_metadata(self, metadata: Any) -> None:
        return None

    async def abort_with_status(self, status: Any) -> None:
        import grpc

        self.aborted = status
        raise grpc.aio.AbortError()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="read_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a migrated database (SQLAlchemy URL); default: start one")
    parser.add_argument("--redis-url", help="a Redis; default: start one")
    parser.add_argument(
        "--setup-only", action="store_true", help="start, migrate and seed, print the URLs, wait"
    )
    parser.add_argument("--calls", type=int, default=3000, help="measured calls per path (default 3000)")
    parser.add_argument("--warmup", type=int, default=300, help="calls before measuring (default 300)")
    parser.add_argument("--path", choices=("balance", "history", "both"), default="both")
    parser.add_argument("--cprofile", help="write a cProfile of the measured calls to this file")
    return parser.parse_args(argv)


def _seed_sql(user_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
    statements: list[tuple[str, dict[str, Any]]] = [
        (
            "INSERT INTO ledger.system_status (id, bootstrapped, total_supply_qirat, block_number)"
            " VALUES (1, true, 1250000000000000000, 1) ON CONFLICT (id) DO NOTHING",
            {},
        )
    ]
    for uid in user_ids:
        statements += [
            (
                "INSERT INTO ledger.users (user_id, country_code, status, genesis_received, block_number,"
                " fabric_tx_id) VALUES (:u, 'LK', 'ACTIVE', true, 2, 'seed')",
                {"u": uid},
            ),
            (
                "INSERT INTO ledger.wallets (wallet_id, account_type, user_id, country_code, balance_qirat,"
                " block_number, fabric_tx_id, create_time, update_time)"
                " VALUES (:u, 'USER', :u, 'LK', 1000000000000000, 2, 'seed', now(), now())",
                {"u": uid},
            ),
            (
                "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type,"
                " amount_qirat, fee_qirat, counterparty, remark, block_number, time)"
                " SELECT 'seed-' || :u || '-' || i, 0, 0, :u, 'RECEIVED', 1000000, 0, 'someone', 'seed', 2,"
                " now() - make_interval(secs => i) FROM generate_series(1, :rows) i",
                {"u": uid, "rows": _HISTORY_ROWS},
            ),
        ]
    return statements


async def _seed(database_url: str) -> list[str]:
    """The bench's users (the same rows `bench/wallet_bench.py` seeds), or the ones already there."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            found = [
                r[0] for r in (await conn.execute(text("SELECT user_id FROM ledger.users LIMIT 64"))).all()
            ]
            if found:
                return found
            users = [str(uuid.uuid4()) for _ in range(_USERS)]
            for sql, params in _seed_sql(users):
                await conn.execute(text(sql), params)
            return users
    finally:
        await engine.dispose()


def _tokens(user_ids: list[str]) -> tuple[Any, list[str]]:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = time.time()
    tokens = [
        jwt.encode(
            {
                "sub": uid,
                "roles": ["USER"],
                "iss": _ISSUER,
                "aud": _AUDIENCE,
                "iat": int(now),
                "exp": int(now) + 900,
                "jti": str(uuid.uuid4()),
                "sid": str(uuid.uuid4()),
                "gx_iat_ms": int(now * 1000),
            },
            key,
            algorithm="ES256",
            headers={"kid": "bench"},
        )
        for uid in user_ids
    ]
    return key.public_key(), tokens


@contextlib.asynccontextmanager
async def wallet_reads(database_url: str, redis_url: str) -> AsyncIterator[tuple[Any, Any, list[str], Any]]:
    """The wrapped GetWallet and ListTransactions behaviors over real resources, a token per user, and
    the servicer itself (to time the handler without the chain)."""
    import grpc
    from prometheus_client import CollectorRegistry
    from pydantic import SecretStr

    from services.common import auth
    from services.common.client_address import ClientAddressInterceptor
    from services.common.db import autocommit_reads, open_autocommit_pool, open_database
    from services.common.interceptors import ServerCalls
    from services.common.metrics import GrpcServerMetrics
    from services.common.redis import open_redis
    from services.common.revocation import RevocationList
    from services.common.server import settle_garbage_collector
    from services.common.settings import DatabaseSettings, RedisSettings
    from services.wallet.servicer import WalletServicer
    from services.wallet.settings import WalletSettings
    from services.wallet.usecases import WalletUseCases

    users = await _seed(database_url)
    public_key, tokens = _tokens(users)
    settings = WalletSettings(
        database=DatabaseSettings(url=SecretStr(database_url)), redis=RedisSettings(url=SecretStr(redis_url))
    )
    async with contextlib.AsyncExitStack() as stack:
        engine, _ = await stack.enter_async_context(open_database(settings.database))
        redis = await stack.enter_async_context(open_redis(settings.redis))
        read_pool = await stack.enter_async_context(open_autocommit_pool(settings.database))
        verifier = auth.TokenVerifier(
            auth.StaticKeySource({"bench": public_key}), issuer=_ISSUER, audience=_AUDIENCE
        )
        calls = ServerCalls(
            settings.error_domain,
            GrpcServerMetrics.for_registry(CollectorRegistry()),
            auth.AuthInterceptor(verifier, (), RevocationList(redis)),
            [ClientAddressInterceptor()],
        )
        servicer = WalletServicer(WalletUseCases(autocommit_reads(engine), None, read_pool=read_pool))  # type: ignore[arg-type]
        balance = calls.wrap(
            "/gx.wallet.v1.WalletService/GetWallet", grpc.unary_unary_rpc_method_handler(servicer.GetWallet)
        ).unary_unary
        history = calls.wrap(
            "/gx.wallet.v1.WalletService/ListTransactions",
            grpc.unary_unary_rpc_method_handler(servicer.ListTransactions),
        ).unary_unary
        # As a started service does (services.common.server.run_server): start-up objects frozen.
        settle_garbage_collector()
        yield balance, history, tokens, servicer


def _metadata(token: str) -> tuple[tuple[str, str], ...]:
    # What Envoy's transcoder forwards: the bearer token, its request id, the forwarded-for chain.
    return (
        ("authorization", f"Bearer {token}"),
        ("x-request-id", str(uuid.uuid4())),
        ("x-forwarded-for", "127.0.0.1"),
        ("x-forwarded-proto", "http"),
        ("x-envoy-original-path", "/v1/wallets/me"),
    )


async def _measure(
    name: str,
    call: Callable[[Any, Any], Awaitable[Any]],
    request: Any,
    tokens: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    contexts = [StandInContext(_metadata(t)) for t in tokens]
    for i in range(args.warmup):
        await call(request, contexts[i % len(contexts)])
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(args.calls):
        answer = await call(request, contexts[i % len(contexts)])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{args.cprofile}.{name}")
    return {
        "path": f"{name}_in_process",
        "calls": args.calls,
        "cpu_us_per_call": round(cpu / args.calls * 1e6, 1),
        "wall_us_per_call": round(wall / args.calls * 1e6, 1),
        "response_bytes": answer.ByteSize(),
        "load_average": round(os.getloadavg()[0], 2),
    }


def _devnull() -> Any:
    return open(os.devnull, "w")


async def _profile(args: argparse.Namespace) -> list[dict[str, Any]]:
    from gx.wallet.v1 import wallet_service_pb2 as svc

    from services.common.logging import configure_logging

    # Logs go to the JSON handler as in a service (its direct path), into /dev/null.
    configure_logging("INFO", "wallet", _devnull())
    results = []
    async with wallet_reads(args.database_url, args.redis_url) as (balance, history, tokens, _):
        if args.path in ("balance", "both"):
            results.append(
                await _measure("balance_read", balance, svc.GetWalletRequest(wallet_id="me"), tokens, args)
            )
        if args.path in ("history", "both"):
            request = svc.ListTransactionsRequest(wallet_id="me")
            results.append(await _measure("history_read", history, request, tokens, args))
    return results


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Measure (starting PostgreSQL and Redis unless given), print JSON lines."""
    import uvloop

    args = _parse(argv)
    with contextlib.ExitStack() as stack:
        if args.database_url is None or args.redis_url is None:
            from services.common import migrate
            from tests.support.stack import running_postgres, running_redis

            postgres = stack.enter_context(running_postgres())
            args.database_url = postgres.create_database("readprof")
            args.redis_url = stack.enter_context(running_redis())
            migrate.upgrade(args.database_url)
            uvloop.run(_seed(args.database_url))
        if args.setup_only:
            # A background job ignores SIGINT: SIGTERM unwinds too, so PostgreSQL and Redis stop.
            signal.signal(signal.SIGTERM, _interrupt)
            print(json.dumps({"database_url": args.database_url, "redis_url": args.redis_url}), flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
            return 0
        for line in uvloop.run(_profile(args)):
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
