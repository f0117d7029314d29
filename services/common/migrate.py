"""Run the one Alembic history programmatically (used by `gx db`, the dev stack and tests)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config

# alembic.ini sits at the repository root beside migrations/; the project is installed
# editable, so the path is stable for the CLI, the dev stack and the tests alike.
_ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(database_url: str, stdout: TextIO | None = None) -> Config:
    """Build the Alembic config for a database.

    Args:
        database_url: A `postgresql+psycopg://` URL.
        stdout: Where Alembic prints (defaults to sys.stdout).

    Returns:
        The config, with `sqlalchemy.url` set so env.py needs no environment variable.
    """
    config = Config(str(_ALEMBIC_INI), stdout=stdout) if stdout is not None else Config(str(_ALEMBIC_INI))
    # ConfigParser interpolation would treat a '%' in an (URL-encoded) password as syntax.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`.

    It runs its own event loop (Alembic's async env uses `asyncio.run`), so from async code
    call it through `asyncio.to_thread`.
    """
    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str:
    """Return the applied revision(s) as Alembic prints them (empty when none)."""
    out = io.StringIO()
    command.current(alembic_config(database_url, stdout=out))
    return out.getvalue().strip()
