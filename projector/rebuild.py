"""Reset the read models so the projector replays the chain from block 0 (`gx projector rebuild`)."""

from __future__ import annotations

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from projector import store
from projector.tables import READ_MODELS, checkpoints

# Every table the projector fills from events, by schema-qualified name (what `reset` empties).
READ_MODEL_TABLES = tuple(table.fullname for table in READ_MODELS)


async def reset(conn: AsyncConnection, name: str) -> int:
    """Empty the read models and rewind the checkpoint, in the caller's transaction.

    The checkpoint row is locked first, so this waits for (and then invalidates) any
    transaction the active projector is applying; the new generation tells that projector to
    re-open its stream from block 0 instead of continuing where it was.

    Returns:
        The new generation.
    """
    await store.ensure_checkpoint(conn, name)
    await conn.execute(select(checkpoints.c.name).where(checkpoints.c.name == name).with_for_update())
    # One TRUNCATE of all of them (Core has no TRUNCATE); the names come from the declarations.
    await conn.execute(text(f"TRUNCATE {', '.join(READ_MODEL_TABLES)} RESTART IDENTITY"))
    generation = (
        await conn.execute(
            update(checkpoints)
            .where(checkpoints.c.name == name)
            .values(
                block_number=None,
                tx_id=None,
                events_applied=0,
                last_event_time=None,
                generation=checkpoints.c.generation + 1,
                updated_at=func.now(),
            )
            .returning(checkpoints.c.generation)
        )
    ).scalar_one()
    return int(generation)
