"""The money-mail preference in the profile (User.notification_settings) through UpdateUser's field mask."""

from __future__ import annotations

from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc

from tests.grpc.identity.identity_harness import Identity, bearer, new_user


def _settings(on: bool) -> identity_pb2.NotificationSettings:
    return identity_pb2.NotificationSettings(money_received_email=on)


async def test_money_mail_is_on_for_a_new_user_and_switched_by_its_mask_path(identity: Identity) -> None:
    _, _, tokens = await new_user(identity)
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token))
    assert me.user.notification_settings.money_received_email is True
    off = await identity.stub.UpdateUser(
        svc.UpdateUserRequest(
            user=identity_pb2.User(user_id="me", notification_settings=_settings(False)),
            update_mask={"paths": ["notification_settings.money_received_email"]},
        ),
        metadata=bearer(tokens.access_token),
    )
    assert off.user.notification_settings.money_received_email is False
    again = await identity.stub.GetUser(
        svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token)
    )
    assert again.user.notification_settings.money_received_email is False
    on = await identity.stub.UpdateUser(
        svc.UpdateUserRequest(
            user=identity_pb2.User(user_id="me", notification_settings=_settings(True)),
            update_mask={"paths": ["notification_settings"]},
        ),
        metadata=bearer(tokens.access_token),
    )
    assert on.user.notification_settings.money_received_email is True


async def test_an_update_without_a_mask_leaves_the_preference_alone(identity: Identity) -> None:
    _, _, tokens = await new_user(identity)
    # A client that never heard of notification_settings sends it unset (false) and no mask.
    updated = await identity.stub.UpdateUser(
        svc.UpdateUserRequest(user=identity_pb2.User(user_id="me", display_name="Ana", country_code="LK")),
        metadata=bearer(tokens.access_token),
    )
    assert updated.user.display_name == "Ana"
    assert updated.user.notification_settings.money_received_email is True
