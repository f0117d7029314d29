"""GetUser through the real identity server with its statement pool: a user's own read takes the
one-statement path, and what a caller is told is what the transactional path tells them.

An admin's GetUser of the same user still runs the transactional path, so it is the reference: a
user's own profile must equal the admin's view of it (without the admin-only fields).
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import access_pb2
from sqlalchemy import text

from tests.grpc.identity.identity_harness import Identity, bearer, new_super_admin, new_user, rich_error


async def _not_found(identity: Identity, user_id: str, token: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.GetUser(svc.GetUserRequest(user_id=user_id), metadata=bearer(token))
    return err.value


async def test_another_users_id_answers_exactly_like_a_missing_id(identity: Identity) -> None:
    _, _, mine = await new_user(identity, "reader")
    theirs, _, _ = await new_user(identity, "other")
    other = await _not_found(identity, theirs, mine.access_token)
    missing = await _not_found(identity, str(uuid.uuid4()), mine.access_token)
    for err in (other, missing):
        assert err.code() == grpc.StatusCode.NOT_FOUND
        info, _ = rich_error(err)
        assert info is not None and info.reason == "USER_NOT_FOUND" and info.domain == "identity.gx"
    # The same message and the same rich status, byte for byte: ids cannot be probed.
    assert other.details() == missing.details()
    status = "grpc-status-details-bin"
    assert dict(other.trailing_metadata() or ())[status] == dict(missing.trailing_metadata() or ())[status]
    # The same id in another spelling is still someone else's.
    upper = await _not_found(identity, theirs.upper(), mine.access_token)
    assert rich_error(upper)[0].reason == "USER_NOT_FOUND"  # type: ignore[union-attr]


async def test_a_user_whose_row_is_gone_reads_user_not_found(identity: Identity) -> None:
    user_id, _, tokens = await new_user(identity, "gone")
    async with identity.engine.begin() as conn:
        await conn.execute(text("DELETE FROM identity.users WHERE id = :u"), {"u": user_id})
    err = await _not_found(identity, "me", tokens.access_token)
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert rich_error(err)[0].reason == "USER_NOT_FOUND"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "state", ["REGISTERED", "KYC_PENDING", "ACTIVE", "REJECTED", "APPROVED_PENDING_ONCHAIN"]
)
@pytest.mark.parametrize("frozen", [False, True])
async def test_every_state_reads_as_the_admin_path_shows_it(
    identity: Identity, state: str, frozen: bool
) -> None:
    _, admin = await new_super_admin(identity)
    user_id, _, tokens = await new_user(identity, "state")
    await identity.stub.UpdateUser(
        svc.UpdateUserRequest(
            user=identity_pb2.User(user_id="me", display_name="Ana", country_code="LK"),
            update_mask={"paths": ["display_name", "country_code"]},
        ),
        metadata=bearer(tokens.access_token),
    )
    # The flag alone, as a freeze leaves the row (FreezeUser also revokes the user's tokens, and a
    # revoked token reads nothing: test_identity_grpc_access covers that).
    async with identity.engine.begin() as conn:
        await conn.execute(
            text("UPDATE identity.users SET state = :s, frozen = :f WHERE id = :u"),
            {"s": state, "f": frozen, "u": user_id},
        )
    own = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token))
    seen = await identity.stub.GetUser(
        svc.GetUserRequest(user_id=user_id), metadata=bearer(admin.access_token)
    )
    assert own.user == seen.user
    assert own.user.SerializeToString(deterministic=True) == seen.user.SerializeToString(deterministic=True)
    expected = (
        identity_pb2.USER_STATE_FROZEN if frozen else identity_pb2.UserState.Value(f"USER_STATE_{state}")
    )
    assert own.user.state == expected
    assert (own.user.display_name, own.user.country_code, own.user.email_verified) == ("Ana", "LK", True)
    assert list(own.user.roles) == [access_pb2.ROLE_USER]
    # Admin-only fields stay out of a user's own read.
    assert own.kyc_state == identity_pb2.KYC_STATE_UNSPECIFIED and not own.HasField("wallet_summary")
