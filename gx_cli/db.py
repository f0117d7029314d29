"""`gx db upgrade|current`: apply or show the database migrations (reads GX_DATABASE__URL)."""

from __future__ import annotations

import argparse
import os

from gx_cli.stack_env import missing


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `db` sub-command."""
    parser = subparsers.add_parser("db", help="database migrations")
    actions = parser.add_subparsers(dest="db_command", required=True)
    up = actions.add_parser("upgrade", help="apply migrations up to a revision (default head)")
    up.add_argument("revision", nargs="?", default="head")
    up.add_argument(
        "--url", help="database URL (default: $GX_DATABASE__URL, else the stack `make up` started)"
    )
    up.set_defaults(handler=_upgrade)
    cur = actions.add_parser("current", help="show the applied revision")
    cur.add_argument(
        "--url", help="database URL (default: $GX_DATABASE__URL, else the stack `make up` started)"
    )
    cur.set_defaults(handler=_current)


def _url(args: argparse.Namespace) -> str | None:
    url = args.url or os.environ.get("GX_DATABASE__URL")
    if not url:
        missing("db", "GX_DATABASE__URL")
    return url


def _upgrade(args: argparse.Namespace) -> int:
    from services.common import migrate

    url = _url(args)
    if not url:
        return 2
    migrate.upgrade(url, args.revision)
    print(f"database at {migrate.current(url) or '(none)'}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from services.common import migrate

    url = _url(args)
    if not url:
        return 2
    print(migrate.current(url) or "(no revision applied)")
    return 0
