"""Rows to gx.identity.v1 messages, and role names to and from the shared Role enum."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, cast

from google.protobuf.timestamp_pb2 import Timestamp
from gx.identity.v1 import identity_pb2
from gx.type.v1 import access_pb2

from services.common.enums import by_short_name
from services.common.timestamps import set_from_micros
from services.identity import models

# Every role a user may hold, by its claim spelling. SERVICE is not one: it belongs to services'
# own tokens, and identity never stores or grants it.
_ROLE_BY_NAME = {
    name: role for name, role in by_short_name(access_pb2.Role).items() if role != access_pb2.ROLE_SERVICE
}
_NAME_BY_ROLE: dict[int, str] = {v: k for k, v in _ROLE_BY_NAME.items()}


def role_name(role: int) -> str | None:
    """The short name (`ADMIN`) of a gx.type.v1.Role value, or None for UNSPECIFIED/unknown."""
    return _NAME_BY_ROLE.get(role)


def role_values(names: Iterable[str]) -> list[access_pb2.Role]:
    """gx.type.v1.Role values for short names, in enum order."""
    return sorted(_ROLE_BY_NAME[n] for n in set(names) if n in _ROLE_BY_NAME)


def timestamp(when: datetime | None) -> Timestamp | None:
    """A protobuf Timestamp, or None."""
    if when is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def user_state(user: models.User) -> identity_pb2.UserState:
    """The API state of a user: FROZEN overrides the lifecycle state while frozen."""
    if user.frozen:
        return identity_pb2.USER_STATE_FROZEN
    return cast(identity_pb2.UserState, identity_pb2.UserState.Value("USER_STATE_" + user.state))


def user_message(user: models.User) -> identity_pb2.User:
    """A User message from a row."""
    return identity_pb2.User(
        user_id=str(user.id),
        email=user.email,
        display_name=user.display_name,
        country_code=user.country_code,
        roles=role_values(user.roles),
        state=user_state(user),
        create_time=timestamp(user.created_at),
        update_time=timestamp(user.updated_at),
        email_verified=user.email_verified_at is not None,
        notification_settings=identity_pb2.NotificationSettings(money_received_email=user.money_emails),
    )


# Lifecycle state name -> UserState number, for `set_user` (the enum wrapper's `Value` builds the
# prefixed name and looks it up on every read).
_STATE_BY_NAME: Final[dict[str, identity_pb2.UserState]] = {
    name.removeprefix("USER_STATE_"): number for name, number in identity_pb2.UserState.items()
}


def set_user(into: identity_pb2.User, row: Sequence[Any]) -> None:
    """Write a `profiles.own_profile` row into the response's User where it lives: the same
    message (and bytes) `user_message` builds from the ORM row.

    Every field is assigned, zero values too: under upb an assignment marks a message field
    present, as `user_message` makes the times and the notification settings (a test holds the two
    byte for byte, the epoch and `money_emails = false` among the rows).
    """
    into.user_id = row[0]
    into.email = row[1]
    into.display_name = row[2]
    into.country_code = row[3]
    into.roles.extend(role_values(row[4]))
    # FROZEN overrides the lifecycle state while frozen (`user_state`); an unknown stored state
    # raises, as `UserState.Value` does there (the table's check constraint allows none).
    into.state = identity_pb2.USER_STATE_FROZEN if row[6] else _STATE_BY_NAME[row[5]]
    set_from_micros(into.create_time, row[7])
    set_from_micros(into.update_time, row[8])
    into.email_verified = row[9]
    into.notification_settings.money_received_email = row[10]


def kyc_message(kyc: models.KycSubmission) -> identity_pb2.KycSubmission:
    """A KycSubmission message from a row (documents loaded)."""
    return identity_pb2.KycSubmission(
        submission_id=str(kyc.id),
        user_id=str(kyc.user_id),
        state=identity_pb2.KycState.Value("KYC_STATE_" + kyc.state),
        first_name=kyc.first_name,
        last_name=kyc.last_name,
        date_of_birth=kyc.date_of_birth.isoformat(),
        nationality=kyc.nationality,
        documents=[
            identity_pb2.KycDocument(type=identity_pb2.KycDocumentType.Value(d.doc_type), sha256=d.sha256)
            for d in kyc.documents
        ],
        rejection_reason=kyc.rejection_reason or "",
        reviewer_user_id=str(kyc.reviewer_user_id) if kyc.reviewer_user_id else "",
        submit_time=timestamp(kyc.submitted_at),
        review_time=timestamp(kyc.reviewed_at),
        operation=f"operations/{kyc.command_id}" if kyc.command_id else "",
    )


def document_type_names() -> frozenset[str]:
    """Every accepted KycDocumentType name (UNSPECIFIED excluded)."""
    return frozenset(n for n in identity_pb2.KycDocumentType.keys() if not n.endswith("_UNSPECIFIED"))
