"""`db.fetch_all`: statements on the driver join the session's transaction, and a new transaction gets its own."""

from __future__ import annotations

from pydantic import SecretStr

from services.common.db import create_engine, create_session_factory, fetch_all
from services.common.settings import DatabaseSettings


async def test_driver_statements_join_the_session_transaction_and_roll_back_with_it(
    database_url: str,
) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url), pool_size=2, max_overflow=0))
    sessions = create_session_factory(engine)
    try:
        await _create_table(sessions)
        async with sessions() as session:
            async with session.begin():
                first = (await fetch_all(session, "SELECT txid_current() AS tx"))[0].tx
                again = (await fetch_all(session, "SELECT txid_current() AS tx"))[0].tx
                await fetch_all(session, "INSERT INTO scratch_driver (name) VALUES (%(n)s)", {"n": "kept"})
            assert again == first
            async with session.begin():
                second = (await fetch_all(session, "SELECT txid_current() AS tx"))[0].tx
                await fetch_all(session, "INSERT INTO scratch_driver (name) VALUES (%(n)s)", {"n": "dropped"})
                await session.rollback()
            assert second != first
        async with sessions() as session:
            rows = await fetch_all(session, "SELECT name FROM scratch_driver ORDER BY name")
        assert [r.name for r in rows] == ["kept"]
    finally:
        await engine.dispose()


async def _create_table(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        await fetch_all(session, "CREATE TABLE IF NOT EXISTS scratch_driver (name text)")
        await fetch_all(session, "DELETE FROM scratch_driver")
