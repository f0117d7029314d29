"""Rows to gx.licensing.v1 messages, with the states that depend on the time computed at read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from gx.licensing.v1 import licensing_pb2 as pb

from services.common.enums import by_short_name
from services.common.timestamps import set_from_micros

# Stored spelling (`ACTIVE`, `FREE`, `LIVE`) ↔ enum value, from the enums themselves.
PARTNER_STATES = by_short_name(pb.PartnerState)
PARTNER_STATE_NAMES = {v: k for k, v in PARTNER_STATES.items()}
TIERS = by_short_name(pb.LicenseTier)
TIER_NAMES = {v: k for k, v in TIERS.items()}
ENVIRONMENTS = by_short_name(pb.ApiKeyEnvironment)
ENVIRONMENT_NAMES = {v: k for k, v in ENVIRONMENTS.items()}


def timestamp(when: datetime | None) -> Timestamp | None:
    """A protobuf Timestamp, or None."""
    if when is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def license_state(row: Any, now: datetime) -> pb.LicenseState:
    """SUSPENDED as set; otherwise EXPIRED from `expire_time` on, so no job has to expire licences."""
    if row.state == "SUSPENDED":
        return pb.LICENSE_STATE_SUSPENDED
    return pb.LICENSE_STATE_EXPIRED if row.expire_at <= now else pb.LICENSE_STATE_ACTIVE


def key_state(row: Any, now: datetime) -> pb.ApiKeyState:
    """REVOKED as set, or a ROTATING key once its grace period has ended."""
    if row.state == "REVOKED" or (
        row.state == "ROTATING" and row.expire_at is not None and row.expire_at <= now
    ):
        return pb.API_KEY_STATE_REVOKED
    return pb.API_KEY_STATE_ROTATING if row.state == "ROTATING" else pb.API_KEY_STATE_ACTIVE


def partner(row: Any) -> pb.Partner:
    """A partners row as a Partner."""
    return pb.Partner(
        partner_id=str(row.id),
        name=row.name,
        email=row.email,
        contact_person=row.contact_person,
        country_code=row.country_code,
        state=PARTNER_STATES[row.state],
        owner_user_id=str(row.owner_user_id) if row.owner_user_id else "",
        suspend_reason=row.suspend_reason or "",
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )


def set_partner(into: pb.Partner, row: tuple[Any, ...]) -> None:
    """Write an `own_partner` row (the Partner's fields, shaped by PostgreSQL) into `into` in place:
    the same message `partner` makes of the table's row."""
    into.partner_id = row[0]
    into.name = row[1]
    into.email = row[2]
    into.contact_person = row[3]
    into.country_code = row[4]
    into.state = PARTNER_STATES[row[5]]
    into.owner_user_id = row[6]
    into.suspend_reason = row[7]
    set_from_micros(into.create_time, row[8])
    set_from_micros(into.update_time, row[9])


def license(row: Any, quotas: dict[str, int], now: datetime) -> pb.License:
    """A licenses row as a License, with the quota configured for its tier."""
    return pb.License(
        license_id=str(row.id),
        partner_id=str(row.partner_id),
        tier=TIERS[row.tier],
        state=license_state(row, now),
        quota_per_minute=quotas[row.tier],
        expire_time=timestamp(row.expire_at),
        suspend_reason=row.suspend_reason or "",
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )


def api_key(row: Any, now: datetime, last_used: datetime | None = None) -> pb.ApiKey:
    """An api_keys row as an ApiKey; `last_used` (from Redis, not yet flushed) wins when newer."""
    used = row.last_used_at
    if last_used is not None and (used is None or last_used > used):
        used = last_used
    return pb.ApiKey(
        key_id=str(row.id),
        partner_id=str(row.partner_id),
        license_id=str(row.license_id),
        environment=ENVIRONMENTS[row.environment],
        display_prefix=row.display_prefix,
        display_name=row.display_name,
        state=key_state(row, now),
        replaced_by_key_id=str(row.replaced_by) if row.replaced_by else "",
        create_time=timestamp(row.created_at),
        expire_time=timestamp(row.expire_at),
        revoke_time=timestamp(row.revoked_at),
        last_used_time=timestamp(used),
    )
