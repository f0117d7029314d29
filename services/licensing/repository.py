"""Queries over the `licensing` schema (`services.licensing.tables`). Callers own the transaction; nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Executable, Select, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.licensing.tables import api_keys, licenses, partners

Db = AsyncSession | AsyncConnection

# What a row of each resource carries: every column, except a key's secret hash, which is only
# ever compared by the edge's lookup (authz.py) and never read back.
_PARTNER_ROW: Final = tuple(partners.c)
_LICENSE_ROW: Final = tuple(licenses.c)
_KEY_ROW: Final = tuple(c for c in api_keys.c if c.name != "secret_hash")
_PARTNER_COLUMNS: Final = ", ".join(c.name for c in _PARTNER_ROW)
_LICENSE_COLUMNS: Final = ", ".join(c.name for c in _LICENSE_ROW)
_KEY_COLUMNS: Final = ", ".join(c.name for c in _KEY_ROW)


async def _rows(db: Db, sql: str, **params: Any) -> Sequence[Any]:
    return (await db.execute(text(sql), params)).all()


async def _first(db: Db, statement: Executable) -> Any | None:
    return (await db.execute(statement)).first()


def _locked(query: Select[Any], for_update: bool) -> Select[Any]:
    return query.with_for_update() if for_update else query


# -- partners -------------------------------------------------------------------------------------


async def insert_partner(
    db: Db,
    *,
    name: str,
    email: str,
    contact_person: str,
    country_code: str,
    owner: uuid.UUID | None,
    now: datetime,
) -> Any | None:
    """The new PENDING partner's row, or None when a unique rule refused it (live email, owner)."""
    return await _first(
        db,
        insert(partners)
        .values(
            id=uuid.uuid4(),
            name=name,
            email=email,
            contact_person=contact_person,
            country_code=country_code,
            state="PENDING",
            owner_user_id=owner,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(*_PARTNER_ROW),
    )


async def partner_by_id(db: Db, partner_id: uuid.UUID, *, for_update: bool = False) -> Any | None:
    """A partner's row, or None."""
    return await _first(db, _locked(select(*_PARTNER_ROW).where(partners.c.id == partner_id), for_update))


async def partner_by_owner(db: Db, user_id: uuid.UUID) -> Any | None:
    """The partner a user is linked to, or None."""
    return await _first(db, select(*_PARTNER_ROW).where(partners.c.owner_user_id == user_id))


async def live_partner_with_email(db: Db, email: str) -> bool:
    """Whether a PENDING or ACTIVE partner has this email (ignoring case)."""
    # lower(email) = lower(...) is the partners_live_email_key index's expression.
    query = select(partners.c.id).where(
        func.lower(partners.c.email) == func.lower(email), partners.c.state.in_(("PENDING", "ACTIVE"))
    )
    return await _first(db, query.limit(1)) is not None


async def list_partners(
    db: Db, state: str | None, after: tuple[str, str] | None, limit: int
) -> Sequence[Any]:
    """Partners newest first, after a (created_at, id) cursor."""
    where = ["TRUE"]
    params: dict[str, Any] = {"limit": limit}
    if state is not None:
        where.append("state = :state")
        params["state"] = state
    if after is not None:
        where.append("(created_at, id) < (CAST(:at AS timestamptz), CAST(:aid AS uuid))")
        params.update(at=after[0], aid=after[1])
    return await _rows(
        db,
        f"SELECT {_PARTNER_COLUMNS} FROM licensing.partners WHERE {' AND '.join(where)}"
        " ORDER BY created_at DESC, id DESC LIMIT :limit",
        **params,
    )


async def set_partner_state(
    db: Db, partner_id: uuid.UUID, state: str, reason: str | None, now: datetime
) -> Any:
    """Sets a partner's state and returns the row."""
    return await _first(
        db,
        update(partners)
        .where(partners.c.id == partner_id)
        .values(state=state, suspend_reason=reason, updated_at=now)
        .returning(*_PARTNER_ROW),
    )


# -- licences -------------------------------------------------------------------------------------


async def insert_license(db: Db, partner_id: uuid.UUID, tier: str, expire_at: datetime, now: datetime) -> Any:
    """A new ACTIVE licence's row."""
    return await _first(
        db,
        insert(licenses)
        .values(
            id=uuid.uuid4(),
            partner_id=partner_id,
            tier=tier,
            state="ACTIVE",
            expire_at=expire_at,
            created_at=now,
            updated_at=now,
        )
        .returning(*_LICENSE_ROW),
    )


async def license_by_id(
    db: Db, partner_id: uuid.UUID, license_id: uuid.UUID, *, for_update: bool = False
) -> Any | None:
    """A licence of a partner, or None (also when it belongs to another partner)."""
    query = select(*_LICENSE_ROW).where(licenses.c.id == license_id, licenses.c.partner_id == partner_id)
    return await _first(db, _locked(query, for_update))


async def list_licenses(
    db: Db, partner_id: uuid.UUID, after: tuple[str, str] | None, limit: int
) -> Sequence[Any]:
    """A partner's licences newest first, after a (created_at, id) cursor."""
    cursor = ""
    params: dict[str, Any] = {"p": partner_id, "limit": limit}
    if after is not None:
        cursor = " AND (created_at, id) < (CAST(:at AS timestamptz), CAST(:aid AS uuid))"
        params.update(at=after[0], aid=after[1])
    return await _rows(
        db,
        f"SELECT {_LICENSE_COLUMNS} FROM licensing.licenses WHERE partner_id = :p{cursor}"
        " ORDER BY created_at DESC, id DESC LIMIT :limit",
        **params,
    )


async def update_license(
    db: Db,
    license_id: uuid.UUID,
    *,
    tier: str,
    expire_at: datetime,
    state: str,
    reason: str | None,
    now: datetime,
) -> Any:
    """Writes a licence's tier, expiry and state; returns the row."""
    return await _first(
        db,
        update(licenses)
        .where(licenses.c.id == license_id)
        .values(tier=tier, expire_at=expire_at, state=state, suspend_reason=reason, updated_at=now)
        .returning(*_LICENSE_ROW),
    )


# -- API keys -------------------------------------------------------------------------------------


async def insert_key(
    db: Db,
    *,
    key_id: uuid.UUID,
    license_id: uuid.UUID,
    partner_id: uuid.UUID,
    environment: str,
    secret_hash: bytes,
    display_prefix: str,
    display_name: str,
    now: datetime,
) -> Any:
    """A new ACTIVE key's row (the hash only; the secret never reaches the database)."""
    return await _first(
        db,
        insert(api_keys)
        .values(
            id=key_id,
            license_id=license_id,
            partner_id=partner_id,
            environment=environment,
            secret_hash=secret_hash,
            display_prefix=display_prefix,
            display_name=display_name,
            state="ACTIVE",
            created_at=now,
        )
        .returning(*_KEY_ROW),
    )


async def key_by_id(
    db: Db, license_id: uuid.UUID, key_id: uuid.UUID, *, for_update: bool = False
) -> Any | None:
    """A key of a licence, or None."""
    query = select(*_KEY_ROW).where(api_keys.c.id == key_id, api_keys.c.license_id == license_id)
    return await _first(db, _locked(query, for_update))


async def list_keys(
    db: Db, license_id: uuid.UUID, after: tuple[str, str] | None, limit: int
) -> Sequence[Any]:
    """A licence's keys newest first, after a (created_at, id) cursor."""
    cursor = ""
    params: dict[str, Any] = {"l": license_id, "limit": limit}
    if after is not None:
        cursor = " AND (created_at, id) < (CAST(:at AS timestamptz), CAST(:aid AS uuid))"
        params.update(at=after[0], aid=after[1])
    return await _rows(
        db,
        f"SELECT {_KEY_COLUMNS} FROM licensing.api_keys WHERE license_id = :l{cursor}"
        " ORDER BY created_at DESC, id DESC LIMIT :limit",
        **params,
    )


async def revoke_key(db: Db, key_id: uuid.UUID, now: datetime) -> Any:
    """Marks a key REVOKED now; returns the row."""
    return await _first(
        db,
        update(api_keys)
        .where(api_keys.c.id == key_id)
        .values(state="REVOKED", revoked_at=now)
        .returning(*_KEY_ROW),
    )


async def start_rotation(db: Db, key_id: uuid.UUID, replaced_by: uuid.UUID, expire_at: datetime) -> Any:
    """Marks a key ROTATING until `expire_at`, replaced by another; returns the row."""
    return await _first(
        db,
        update(api_keys)
        .where(api_keys.c.id == key_id)
        .values(state="ROTATING", replaced_by=replaced_by, expire_at=expire_at)
        .returning(*_KEY_ROW),
    )


async def write_last_used(db: Db, used: dict[uuid.UUID, datetime]) -> int:
    """Moves last-used times forward (never back) for many keys in one statement; returns rows changed."""
    if not used:
        return 0
    result = await db.execute(
        text(
            "UPDATE licensing.api_keys k SET last_used_at = u.at"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[])) AS u(id, at)"
            " WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)"
        ),
        {"ids": list(used), "ats": list(used.values())},
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- usage ----------------------------------------------------------------------------------------


async def usage(db: Db, license_id: uuid.UUID, start: datetime, end: datetime, unit: str) -> Sequence[Any]:
    """Per-bucket sums (`unit` is `hour` or `day`, UTC) of a licence's minutes in [start, end)."""
    return await _rows(
        db,
        "SELECT date_trunc(:unit, minute, 'UTC') AS bucket, sum(request_count) AS requests,"
        " sum(error_count) AS errors, sum(throttled_count) AS throttled, sum(byte_count) AS bytes"
        " FROM licensing.usage_minutes WHERE license_id = :l AND minute >= :start AND minute < :end"
        " GROUP BY 1 ORDER BY 1",
        l=license_id,
        start=start,
        end=end,
        unit=unit,
    )
