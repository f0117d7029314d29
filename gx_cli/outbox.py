"""`gx outbox list|show|retry|cancel`: inspect and act on ledger commands (reads GX_DATABASE__URL)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from gx_cli.stack_env import missing


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `outbox` sub-command."""
    parser = subparsers.add_parser("outbox", help="inspect and act on outbox commands")
    parser.add_argument(
        "--url", help="database URL (default: $GX_DATABASE__URL, else the stack `make up` started)"
    )
    actions = parser.add_subparsers(dest="outbox_command", required=True)
    ls = actions.add_parser("list", help="list commands, newest first")
    ls.add_argument("--status", choices=["PENDING", "SUBMITTED", "COMMITTED", "FAILED"])
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(handler=lambda a: _run(a, _list))
    show = actions.add_parser("show", help="show one command")
    show.add_argument("id")
    show.set_defaults(handler=lambda a: _run(a, _show))
    retry = actions.add_parser("retry", help="retry a dead-lettered (FAILED) command as a new command")
    retry.add_argument("id")
    retry.add_argument("--force", action="store_true", help="also retry a command the ledger rejected")
    retry.add_argument("--request-id", help="idempotency key (default: a new UUID)")
    retry.set_defaults(handler=lambda a: _run(a, _retry))
    cancel = actions.add_parser("cancel", help="cancel a PENDING command not yet sent to the ledger")
    cancel.add_argument("id")
    cancel.add_argument("--reason", default="")
    cancel.set_defaults(handler=lambda a: _run(a, _cancel))


def _view_dict(view: Any) -> dict[str, Any]:
    data = {k: getattr(view, k) for k in view.__dataclass_fields__}
    return {
        k: (str(v) if v is not None and not isinstance(v, (int, bool, str, list)) else v)
        for k, v in data.items()
    }


# An action gets what `_run` opened (an engine, or the outbox admin over one) and the arguments.
_Action = Callable[[Any, argparse.Namespace], Awaitable[int]]


def _run(args: argparse.Namespace, action: _Action) -> int:
    url = args.url or os.environ.get("GX_DATABASE__URL")
    if not url:
        missing("outbox", "GX_DATABASE__URL")
        return 2

    async def go() -> int:
        from sqlalchemy.ext.asyncio import create_async_engine

        from outbox.admin import OutboxAdmin
        from services.common.errors import GxError

        engine = create_async_engine(url)
        try:
            return await action(OutboxAdmin(engine), args)
        except GxError as error:
            print(f"gx outbox: {error.reason}: {error.message}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _list(admin: Any, args: argparse.Namespace) -> int:
    views, _ = await admin.list(args.status, args.limit)
    print(f"{'ID':36}  {'STATUS':9}  {'TYPE':24}  {'TRIES':>5}  {'BLOCK':>6}  ERROR")
    for v in views:
        error = f"{v.error_code}: {(v.error_message or '')[:60]}" if v.error_code else ""
        block = "" if v.block_number is None else v.block_number
        print(f"{v.id!s:36}  {v.status:9}  {v.command_type:24}  {v.attempts:>5}  {block!s:>6}  {error}")
    return 0


async def _show(admin: Any, args: argparse.Namespace) -> int:
    print(json.dumps(_view_dict(await admin.get(args.id)), indent=2))
    return 0


async def _retry(admin: Any, args: argparse.Namespace) -> int:
    view = await admin.retry(
        args.id, args.request_id or str(uuid.uuid4()), force=args.force, operator="gx-cli"
    )
    print(f"recorded retry {view.id} of {args.id} (status {view.status})")
    return 0


async def _cancel(admin: Any, args: argparse.Namespace) -> int:
    view = await admin.cancel(args.id, args.reason, operator="gx-cli")
    print(f"command {view.id} is {view.status} ({view.error_code})")
    return 0
