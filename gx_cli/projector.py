"""`gx projector status|rebuild`: the projection's checkpoint, lag and poison events; replay from block 0."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from gx_cli.stack_env import missing


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `projector` sub-command."""
    parser = subparsers.add_parser("projector", help="projector checkpoint, lag and rebuild")
    parser.add_argument(
        "--url", help="database URL (default: $GX_DATABASE__URL, else the stack `make up` started)"
    )
    parser.add_argument("--name", default="gxchannel/gx", help="projection (channel/chaincode)")
    actions = parser.add_subparsers(dest="projector_command", required=True)
    status = actions.add_parser("status", help="checkpoint, lag, active projector, poison events")
    status.set_defaults(handler=lambda a: _run(a, _status))
    rebuild = actions.add_parser(
        "rebuild", help="empty the read models and replay from block 0 (the active projector does the replay)"
    )
    rebuild.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the replay to catch up")
    rebuild.set_defaults(handler=lambda a: _run(a, _rebuild))


# An action gets what `_run` opened (an engine, or the outbox admin over one) and the arguments.
_Action = Callable[[Any, argparse.Namespace], Awaitable[int]]


def _run(args: argparse.Namespace, action: _Action) -> int:
    url = args.url or os.environ.get("GX_DATABASE__URL")
    if not url:
        missing("projector", "GX_DATABASE__URL")
        return 2

    async def go() -> int:
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        try:
            return await action(engine, args)
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _status(engine: Any, args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from projector import lag, lock, store
    from services.common import names

    channel, _, chaincode = args.name.partition("/")
    async with engine.begin() as conn:
        checkpoint = await store.load_checkpoint(conn, args.name)
        holder = await lock.holder_pid(conn, names.projector_lock(channel, chaincode))
        poison = (
            await conn.execute(
                text(
                    "SELECT block_number, tx_id, event_index, error, created_at FROM ledger.poison_events"
                    " WHERE name = :n ORDER BY id DESC LIMIT 5"
                ),
                {"n": args.name},
            )
        ).all()
    blocks, seconds = await lag.measure(engine)
    print(f"projection      {args.name}")
    print(f"checkpoint      block {checkpoint.block_number} after tx {checkpoint.tx_id}")
    print(f"generation      {checkpoint.generation} ({checkpoint.events_applied} events applied)")
    print(f"active          {'backend pid ' + str(holder) if holder else 'none'}")
    print(f"lag             {blocks} blocks, {seconds:.1f} s")
    for row in poison:
        print(f"POISON          block {row.block_number} tx {row.tx_id} event {row.event_index}: {row.error}")
    return 0


async def _rebuild(engine: Any, args: argparse.Namespace) -> int:
    from projector import rebuild, store

    async with engine.begin() as conn:
        before = await store.load_checkpoint(conn, args.name)
        generation = await rebuild.reset(conn, args.name)
    print(
        f"read models emptied; generation {generation}: the active projector replays from block 0"
        f" (it was at block {before.block_number})"
    )
    if args.wait > 0 and before.block_number is not None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.wait
        while loop.time() < deadline:
            async with engine.begin() as conn:
                now = await store.load_checkpoint(conn, args.name)
            if now.block_number is not None and now.block_number >= before.block_number:
                print(f"caught up: block {now.block_number}")
                return 0
            await asyncio.sleep(0.2)
        print("the replay has not caught up yet (is a projector running?)", file=sys.stderr)
        return 1
    return 0
