"""`gx identity create-admin|rotate-key`: bootstrap the first super-admin and rotate signing keys."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from gx_cli.stack_env import missing


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `identity` sub-command."""
    parser = subparsers.add_parser("identity", help="identity service administration")
    actions = parser.add_subparsers(dest="identity_command", required=True)
    admin = actions.add_parser(
        "create-admin",
        help="create the first super-admin directly in the database (or grant the roles to an existing account)",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--password",
        help="the password (default: $GX_ADMIN_PASSWORD, else asked for); prefer the variable or the prompt, "
        "since arguments show up in the process list",
    )
    admin.add_argument(
        "--url", help="database URL (default: $GX_DATABASE__URL, else the stack `make up` started)"
    )
    admin.set_defaults(handler=_create_admin)
    rotate = actions.add_parser("rotate-key", help="add a new ES256 signing key; older keys stay published")
    rotate.add_argument(
        "--keys-dir", help="the keys directory (default: $GX_IDENTITY__KEYS_DIR, else the stack's)"
    )
    rotate.set_defaults(handler=_rotate_key)


def _password(args: argparse.Namespace) -> str | None:
    if args.password:
        return str(args.password)
    from_env = os.environ.get("GX_ADMIN_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        print(
            "gx identity: pass --password, set GX_ADMIN_PASSWORD, or run in a terminal to be asked",
            file=sys.stderr,
        )
        return None
    first = getpass.getpass("Password for the new super-admin: ")
    if first != getpass.getpass("Repeat it: "):
        print("gx identity: the passwords differ", file=sys.stderr)
        return None
    return first


async def _create(url: str, email: str, password: str) -> tuple[str, bool]:
    from datetime import UTC, datetime

    from pydantic import SecretStr

    from services.common.db import open_database
    from services.common.settings import DatabaseSettings
    from services.identity.passwords import PasswordHashing
    from services.identity.settings import IdentitySettings
    from services.identity.usecases import create_super_admin

    opts = IdentitySettings().identity
    hashing = PasswordHashing(opts.argon2_memory_kib, opts.argon2_time_cost, opts.argon2_parallelism)
    async with open_database(DatabaseSettings(url=SecretStr(url), pool_size=1, max_overflow=0)) as (
        _,
        sessions,
    ):
        user, created = await create_super_admin(sessions, hashing, email, password, datetime.now(UTC))
    return str(user.id), created


def _create_admin(args: argparse.Namespace) -> int:
    from services.common.errors import InvalidArgument

    url = args.url or os.environ.get("GX_DATABASE__URL")
    if not url:
        return missing("identity", "GX_DATABASE__URL")
    password = _password(args)
    if password is None:
        return 2
    try:
        user_id, created = asyncio.run(_create(url, args.email, password))
    except InvalidArgument as exc:
        for violation in exc.violations:
            print(f"gx identity: {violation.field} {violation.description}", file=sys.stderr)
        return 2
    verb = "created super-admin" if created else "granted ADMIN and SUPER_ADMIN to existing user"
    print(f"{verb} {args.email} (user id {user_id})")
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    from pathlib import Path

    from services.identity.keys import KeyStore

    directory = args.keys_dir or os.environ.get("GX_IDENTITY__KEYS_DIR")
    if not directory:
        return missing("identity", "GX_IDENTITY__KEYS_DIR", "--keys-dir")
    store = KeyStore.open(Path(directory))
    key = store.rotate()
    print(
        f"new signing key {key.kid} in {key.path}; {len(store.keys)} key(s) published; it signs once it has been "
        "published for GX_IDENTITY__KEY_ACTIVATION_SECONDS (default 600 s)"
    )
    return 0
