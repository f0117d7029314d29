"""A user's read of their own profile in one statement on the driver (GetUser's common case).

A mobile client reads its own profile on every start and often after. Through the ORM that read
cost a session, a transaction (BEGIN, SELECT, COMMIT: three round trips), the User object and the
message built from it: about 1.4 ms of identity's CPU per read. Here it is one statement on an
autocommit driver connection (`services.common.db.open_autocommit_pool`), its columns shaped by
PostgreSQL (times as epoch microseconds, the verification as a bool) and written into the
response in place by `convert.set_user`.

Only what needs no transaction is answered here: a user whose KYC was approved may have to be
promoted to ACTIVE on this very read (`IdentityUseCases._promote_if_committed`, a write), so a
row in `PENDING_STATE` is handed back to the transactional path, which reads it again.
"""

from __future__ import annotations

from typing import Any, Final

from services.common.statement_batch import StatementBatch

# The one lifecycle state the fast path does not answer (see the module docstring).
PENDING_STATE: Final = "APPROVED_PENDING_ONCHAIN"

# The User message's columns in `convert.set_user`'s order. The ownership is the caller's own id
# (the use case refuses any other id before this runs), the key is the primary key, so
# PostgreSQL plans it once per connection. `extract(epoch ...)` is numeric (exact to the
# microsecond), so the cast loses nothing `Timestamp.FromDatetime` keeps.
_OWN_PROFILE: Final = """
    SELECT u.id::text, u.email, u.display_name, u.country_code, u.roles, u.state, u.frozen,
           (extract(epoch FROM u.created_at) * 1000000)::int8, (extract(epoch FROM u.updated_at) * 1000000)::int8,
           u.email_verified_at IS NOT NULL, u.money_emails
      FROM identity.users u
     WHERE u.id = %(id)s
    """

# Positions in a row of `_OWN_PROFILE` the use case reads.
STATE: Final = 5


async def own_profile(reads: StatementBatch, user_id: str) -> tuple[Any, ...] | None:
    """The caller's profile row (`convert.set_user`'s columns), or None when no such user exists.

    Args:
        reads: Autocommit driver connections (each statement its own transaction), reads that
            queue up sent together (`services.common.statement_batch`).
        user_id: The caller's own user id, canonical UUID text.
    """
    rows = await reads.fetch_all(_OWN_PROFILE, {"id": user_id})
    return rows[0] if rows else None
