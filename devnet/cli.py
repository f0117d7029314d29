"""The devnet command line, shared by ``python -m devnet`` and ``gx devnet``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

_LOG = logging.getLogger(__name__)
# The same switch the services read (services/common/runtime.py; devnet may not import it).
EVENT_LOOP_ENV = "GX_EVENT_LOOP"


def _chaincode(value: str) -> tuple[str, str]:
    name, sep, address = value.partition("=")
    if not sep or not name or ":" not in address:
        raise argparse.ArgumentTypeError(f"expected NAME=HOST:PORT, got {value!r}")
    return name, address


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add devnet's options to ``parser``."""
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".gx/devnet"),
        help="crypto material and ledger (default .gx/devnet); reused across restarts",
    )
    parser.add_argument(
        "--listen", default="127.0.0.1:7051", help="Gateway API host:port (default 127.0.0.1:7051)"
    )
    parser.add_argument("--channel", default="gxchannel", help="channel name (default gxchannel)")
    parser.add_argument("--msp-id", default="Org1MSP", help="the org's MSP id (default Org1MSP)")
    parser.add_argument(
        "--domain", default="org1.example.com", help="the org's domain (default org1.example.com)"
    )
    parser.add_argument(
        "--chaincode",
        type=_chaincode,
        action="append",
        default=[],
        metavar="NAME=HOST:PORT",
        help="a chaincode-as-a-service to dial (repeatable)",
    )
    parser.add_argument(
        "--metrics-listen", default=None, metavar="HOST:PORT", help="serve Prometheus /metrics here"
    )
    parser.add_argument(
        "--batch-timeout",
        type=float,
        default=0.05,
        help="seconds before a partial block is cut (default 0.05; Fabric's test network: 2)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=100,
        help="most transactions per block (default 100; Fabric's test network: 10)",
    )
    parser.add_argument(
        "--execute-timeout", type=float, default=30.0, help="chaincode execute timeout, seconds"
    )
    parser.add_argument("--tls-cert", type=Path, default=None, help="serve TLS with this certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, default=None, help="... and this key (PEM)")
    parser.add_argument("--log-level", default="INFO")


async def _serve(args: argparse.Namespace) -> None:
    from devnet.server import Devnet, DevnetConfig

    config = DevnetConfig(
        state_dir=args.state_dir,
        listen=args.listen,
        channel=args.channel,
        msp_id=args.msp_id,
        domain=args.domain,
        chaincodes=dict(args.chaincode),
        batch_size=args.batch_size,
        batch_timeout=args.batch_timeout,
        metrics_listen=args.metrics_listen,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        execute_timeout=args.execute_timeout,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    devnet = Devnet(config)
    try:
        await devnet.start()
        await stop.wait()
        _LOG.info("devnet shutting down")
    finally:
        await devnet.stop()


def run(args: argparse.Namespace) -> int:
    """Run devnet until SIGTERM/SIGINT; the exit code."""
    from devnet import logs

    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    logs.configure(args.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        run_loop(_serve(args))
    return 0


def run_loop(main: Coroutine[Any, Any, None], environ: dict[str, str] | None = None) -> None:
    """Run ``main`` on uvloop, or on asyncio's own loop when ``GX_EVENT_LOOP=asyncio``.

    Why uvloop: the devnet's hot paths are event-loop work (the chaincode stream's reads and writes,
    the Gateway RPCs' tasks), about a tenth of its CPU per GX transfer less on libuv. Without uvloop
    installed it says so and runs on asyncio.
    """
    choice = (os.environ if environ is None else environ).get(EVENT_LOOP_ENV, "uvloop").strip().lower()
    if choice not in ("", "uvloop", "asyncio"):
        raise SystemExit(f"{EVENT_LOOP_ENV} must be 'uvloop' or 'asyncio', not {choice!r}")
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            _LOG.warning("uvloop is not installed: devnet runs on asyncio's own event loop")
        else:
            uvloop.run(main)
            return
    asyncio.run(main)


def main(argv: list[str] | None = None) -> int:
    """``python -m devnet``."""
    parser = argparse.ArgumentParser(
        prog="devnet", description="single-node Fabric peer + orderer (GX devnet)"
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
