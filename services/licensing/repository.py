"""SQL over the `licensing` schema. Callers own the transaction; nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Db = AsyncSession | AsyncConnection

_PARTNER_COLUMNS: Final = (
    "id, name, email, contact_person, country_code, state, owner_user_id, suspend_reason, created_at, updated_at"
)
_LICENSE_COLUMNS: Final = "id, partner_id, tier, state, suspend_reason, expire_at, created_at, updated_at"
_KEY_COLUMNS: Final = (
    "id, license_id, partner_id, environment, display_prefix, display_name, state, replaced_by, expire_at,"
    " revoked_at, last_used_at, created_at"
)


async def _rows(db: Db, sql: str, **params: Any) -> Sequence[Any]:
    return (await db.execute(text(sql), params)).all()


async def _one(db: Db, sql: str, **params: Any) -> Any | None:
    rows = await _rows(db, sql, **params)
    return rows[0] if rows else None


def _lock(for_update: bool) -> str:
    return " FOR UPDATE" if for_update else ""


# -- partners -------------------------------------------------------------------------------------


async def insert_partner(
    db: Db, *, name: str, email: str, contact_person: str, country_code: str, owner: uuid.UUID | None, now: datetime
) -> Any | None:
    """The new PENDING partner's row, or None when a unique rule refused it (live email, owner)."""
    return await _one(
        db,
        "INSERT INTO licensing.partners (id, name, email, contact_person, country_code, state, owner_user_id,"
        " created_at, updated_at) VALUES (:id, :name, :email, :contact, :cc, 'PENDING', :owner, :now, :now)"
        f" ON CONFLICT DO NOTHING RETURNING {_PARTNER_COLUMNS}",
        id=uuid.uuid4(),
        name=name,
        email=email,
        contact=contact_person,
        cc=country_code,
        owner=owner,
        now=now,
    )


async def partner_by_id(db: Db, partner_id: uuid.UUID, *, for_update: bool = False) -> Any | None:
    """A partner's row, or None."""
    return await _one(
        db, f"SELECT {_PARTNER_COLUMNS} FROM licensing.partners WHERE id = :id{_lock(for_update)}", id=partner_id
    )


async def partner_by_owner(db: Db, user_id: uuid.UUID) -> Any | None:
    """The partner a user is linked to, or None."""
    return await _one(db, f"SELECT {_PARTNER_COLUMNS} FROM licensing.partners WHERE owner_user_id = :u", u=user_id)


async def live_partner_with_email(db: Db, email: str) -> bool:
    """Whether a PENDING or ACTIVE partner has this email (ignoring case)."""
    row = await _one(
        db,
        "SELECT 1 FROM licensing.partners WHERE lower(email) = lower(:e) AND state IN ('PENDING', 'ACTIVE')",
        e=email,
    )
    return row is not None


async def list_partners(db: Db, state: str | None, after: tuple[str, str] | None, limit: int) -> Sequence[Any]:
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


async def set_partner_state(db: Db, partner_id: uuid.UUID, state: str, reason: str | None, now: datetime) -> Any:
    """Sets a partner's state and returns the row."""
    return await _one(
        db,
        "UPDATE licensing.partners SET state = :state, suspend_reason = :reason, updated_at = :now WHERE id = :id"
        f" RETURNING {_PARTNER_COLUMNS}",
        id=partner_id,
        state=state,
        reason=reason,
        now=now,
    )


# -- licences -------------------------------------------------------------------------------------


async def insert_license(db: Db, partner_id: uuid.UUID, tier: str, expire_at: datetime, now: datetime) -> Any:
    """A new ACTIVE licence's row."""
    return await _one(
        db,
        "INSERT INTO licensing.licenses (id, partner_id, tier, state, expire_at, created_at, updated_at)"
        f" VALUES (:id, :p, :tier, 'ACTIVE', :exp, :now, :now) RETURNING {_LICENSE_COLUMNS}",
        id=uuid.uuid4(),
        p=partner_id,
        tier=tier,
        exp=expire_at,
        now=now,
    )


async def license_by_id(
    db: Db, partner_id: uuid.UUID, license_id: uuid.UUID, *, for_update: bool = False
) -> Any | None:
    """A licence of a partner, or None (also when it belongs to another partner)."""
    return await _one(
        db,
        f"SELECT {_LICENSE_COLUMNS} FROM licensing.licenses WHERE id = :id AND partner_id = :p{_lock(for_update)}",
        id=license_id,
        p=partner_id,
    )


async def list_licenses(db: Db, partner_id: uuid.UUID, after: tuple[str, str] | None, limit: int) -> Sequence[Any]:
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
    db: Db, license_id: uuid.UUID, *, tier: str, expire_at: datetime, state: str, reason: str | None, now: datetime
) -> Any:
    """Writes a licence's tier, expiry and state; returns the row."""
    return await _one(
        db,
        "UPDATE licensing.licenses SET tier = :tier, expire_at = :exp, state = :state, suspend_reason = :reason,"
        f" updated_at = :now WHERE id = :id RETURNING {_LICENSE_COLUMNS}",
        id=license_id,
        tier=tier,
        exp=expire_at,
        state=state,
        reason=reason,
        now=now,
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
    return await _one(
        db,
        "INSERT INTO licensing.api_keys (id, license_id, partner_id, environment, secret_hash, display_prefix,"
        " display_name, state, created_at) VALUES (:id, :l, :p, :env, :h, :dp, :dn, 'ACTIVE', :now)"
        f" RETURNING {_KEY_COLUMNS}",
        id=key_id,
        l=license_id,
        p=partner_id,
        env=environment,
        h=secret_hash,
        dp=display_prefix,
        dn=display_name,
        now=now,
    )


async def key_by_id(db: Db, license_id: uuid.UUID, key_id: uuid.UUID, *, for_update: bool = False) -> Any | None:
    """A key of a licence, or None."""
    return await _one(
        db,
        f"SELECT {_KEY_COLUMNS} FROM licensing.api_keys WHERE id = :id AND license_id = :l{_lock(for_update)}",
        id=key_id,
        l=license_id,
    )


async def list_keys(db: Db, license_id: uuid.UUID, after: tuple[str, str] | None, limit: int) -> Sequence[Any]:
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
    return await _one(
        db,
        f"UPDATE licensing.api_keys SET state = 'REVOKED', revoked_at = :now WHERE id = :id RETURNING {_KEY_COLUMNS}",
        id=key_id,
        now=now,
    )


async def start_rotation(db: Db, key_id: uuid.UUID, replaced_by: uuid.UUID, expire_at: datetime) -> Any:
    """Marks a key ROTATING until `expire_at`, replaced by another; returns the row."""
    return await _one(
        db,
        "UPDATE licensing.api_keys SET state = 'ROTATING', replaced_by = :r, expire_at = :exp WHERE id = :id"
        f" RETURNING {_KEY_COLUMNS}",
        id=key_id,
        r=replaced_by,
        exp=expire_at,
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
