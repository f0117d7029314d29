"""A user's own GetUser on the statement pool answers what the transactional path answers.

The fast path (`services.identity.profiles`, `convert.set_user`) and the ORM path
(`_visible_user`, `convert.user_message`) read the same rows of real PostgreSQL here; every
lifecycle state, frozen or not, and every optional field set and unset must give the same message
and the same bytes. A user waiting for their CREATE_USER command is the fast path's exception: the
read that finds the command committed and projected must still promote them to ACTIVE.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.statement_batch import StatementBatch
from services.identity import profiles
from services.identity.errors import ServiceError
from services.identity.keys import KeyStore
from services.identity.kyc import KycDocumentInput, KycInput
from services.identity.server import build_usecases, open_statement_pool
from services.identity.tables import LIFECYCLE_STATES
from services.identity.usecases import Caller, IdentityUseCases
from tests.integration.identity.conftest import Wired

ADMIN = Caller(str(uuid.uuid4()), frozenset({"USER", "ADMIN"}))
PASSWORD = "Correct horse 42 battery"

# The fast path's states (the pending one is the transactional path's, tested below).
_STATES = ("REGISTERED", "KYC_PENDING", "ACTIVE", "REJECTED")
_ROLES: tuple[list[str], ...] = (
    ["USER"],
    ["PARTNER", "USER"],
    [],
    ["USER", "USER", "PARTNER"],
    ["ADMIN", "USER"],
)
# Microseconds kept, the epoch itself, just before it (negative seconds, positive nanos), far ahead.
_TIMES = (
    datetime(2026, 12, 6, 15, 30, 1, 123456, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2999, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
)


@pytest.fixture(scope="module")
async def statements(wired: Wired) -> AsyncIterator[AsyncConnectionPool]:
    async with open_statement_pool(wired.settings) as pool:
        yield pool


@pytest.fixture(scope="module")
def reads(statements: AsyncConnectionPool) -> StatementBatch:
    """The fast path's reads on the statement pool, batched as the use cases batch them."""
    return StatementBatch(statements, "test", registry=CollectorRegistry())


@pytest.fixture(scope="module")
def fast(wired: Wired, statements: AsyncConnectionPool) -> IdentityUseCases:
    """The use cases as the server wires them (with the statement pool); `wired.usecases` has none."""
    keys = KeyStore.open(wired.settings.identity.keys_dir)
    return build_usecases(wired.settings, wired.sessions, wired.redis, keys, statements=statements)


async def _insert_user(wired: Wired, **over: object) -> uuid.UUID:
    """A user row written as it stands, with the columns `over` names."""
    user_id = uuid.uuid4()
    now = datetime.now(UTC)
    row: dict[str, object] = {
        "id": user_id,
        "email": f"profile-{user_id.hex[:12]}@example.com",
        "display_name": "",
        "country_code": "",
        "password_hash": "$argon2id$not-used",
        "roles": ["USER"],
        "state": "REGISTERED",
        "frozen": False,
        "frozen_reason": None,
        "frozen_at": None,
        "created_at": now,
        "updated_at": now,
        "email_verified_at": None,
        "money_emails": True,
    }
    row.update(over)
    columns = ", ".join(row)
    values = ", ".join(f":{c}" for c in row)
    async with wired.engine.begin() as conn:
        await conn.execute(text(f"INSERT INTO identity.users ({columns}) VALUES ({values})"), row)
    return user_id


def _rows() -> list[dict[str, object]]:
    """Every state frozen and not, with each optional field set and unset, times and roles cycled."""
    out: list[dict[str, object]] = []
    combos = itertools.product(_STATES, (False, True), (False, True), (False, True), (False, True))
    for i, (state, frozen, verified, money, named) in enumerate(combos):
        created = _TIMES[i % len(_TIMES)]
        out.append(
            {
                "state": state,
                "frozen": frozen,
                "frozen_reason": "Fraud review" if frozen and i % 3 else None,
                "frozen_at": created if frozen else None,
                "email_verified_at": created + timedelta(minutes=1) if verified else None,
                "money_emails": money,
                "display_name": "Ána Perera 🙂" if named else "",
                "country_code": "LK" if named else "",
                "roles": _ROLES[i % len(_ROLES)],
                "created_at": created,
                "updated_at": _TIMES[(i + 1) % len(_TIMES)],
            }
        )
    return out


async def test_the_one_statement_profile_equals_the_transactional_one_for_every_row_shape(
    wired: Wired, fast: IdentityUseCases, reads: StatementBatch
) -> None:
    rows = _rows()
    assert len(rows) == 64
    for columns in rows:
        user_id = await _insert_user(wired, **columns)
        caller = Caller(str(user_id), frozenset({"USER"}))
        old = await wired.usecases.get_user(caller, "me")
        # The fast path itself answered (None would mean the transactional path did).
        direct = await fast._own_profile(reads, caller, user_id)
        assert direct is not None, columns
        through = await fast.get_user(caller, "me")
        for new in (direct, through):
            assert new == old, columns
            assert new.SerializeToString(deterministic=True) == old.SerializeToString(deterministic=True)
        # And not vacuously: the fields the row set are in the answer.
        assert old.user.user_id == str(user_id)
        assert old.user.HasField("create_time") and old.user.HasField("notification_settings")
        expected_state = (
            identity_pb2.USER_STATE_FROZEN
            if columns["frozen"]
            else identity_pb2.UserState.Value(f"USER_STATE_{columns['state']}")
        )
        assert old.user.state == expected_state
        assert old.user.email_verified is (columns["email_verified_at"] is not None)
        assert old.user.notification_settings.money_received_email is columns["money_emails"]


async def test_times_before_and_at_the_epoch_read_as_from_datetime_gives_them(
    wired: Wired, fast: IdentityUseCases
) -> None:
    user_id = await _insert_user(wired, created_at=_TIMES[2], updated_at=_TIMES[1])
    answer = await fast.get_user(Caller(str(user_id), frozenset({"USER"})), "me")
    assert (answer.user.create_time.seconds, answer.user.create_time.nanos) == (-1, 999_999_000)
    assert answer.user.HasField("update_time")
    assert (answer.user.update_time.seconds, answer.user.update_time.nanos) == (0, 0)


async def test_another_users_id_and_a_missing_id_are_user_not_found_before_anything_is_read(
    wired: Wired, fast: IdentityUseCases
) -> None:
    mine = await _insert_user(wired)
    theirs = await _insert_user(wired, state="ACTIVE")
    caller = Caller(str(mine), frozenset({"USER"}))
    for target in (str(theirs), str(uuid.uuid4())):
        with pytest.raises(ServiceError) as err:
            await fast.get_user(caller, target)
        assert err.value.reason == "USER_NOT_FOUND"
    # A token whose user was deleted: its own id, no row.
    gone = Caller(str(uuid.uuid4()), frozenset({"USER"}))
    with pytest.raises(ServiceError) as err:
        await fast.get_user(gone, "me")
    assert err.value.reason == "USER_NOT_FOUND"


async def test_admins_keep_the_transactional_path_and_its_admin_view(
    wired: Wired, fast: IdentityUseCases
) -> None:
    admin_id = await _insert_user(wired, roles=["ADMIN", "USER"])
    other, _ = await _approved_user(wired)
    admin = Caller(str(admin_id), frozenset({"USER", "ADMIN"}))
    own = await fast.get_user(admin, "me")
    assert own == await wired.usecases.get_user(admin, "me")
    # What only the admin path adds: the back office's view (the latest KYC's state).
    theirs = await fast.get_user(admin, other.user_id)
    assert theirs == await wired.usecases.get_user(admin, other.user_id)
    assert theirs.user.user_id == other.user_id
    assert theirs.kyc_state == identity_pb2.KYC_STATE_APPROVED
    # The user's own read shows no admin view.
    assert (await fast.get_user(other, "me")).kyc_state == identity_pb2.KYC_STATE_UNSPECIFIED


def _kyc() -> KycInput:
    return KycInput(
        "Ana",
        "Perera",
        "1990-04-01",
        "LK",
        (KycDocumentInput("KYC_DOCUMENT_TYPE_PASSPORT", uuid.uuid4().hex * 2),),
    )


async def _approved_user(wired: Wired) -> tuple[Caller, uuid.UUID]:
    """A user whose KYC was approved: APPROVED_PENDING_ONCHAIN, and their CREATE_USER command id."""
    email = f"promote-{uuid.uuid4().hex[:12]}@example.com"
    response = await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))
    caller = Caller(response.user.user_id, frozenset({"USER"}))
    await wired.verify_email(caller, email)
    await wired.usecases.submit_kyc(caller, svc.SubmitKycRequest(user_id="me"), _kyc())
    operation = await wired.usecases.approve_kyc(
        ADMIN, svc.ApproveKycRequest(user_id=caller.user_id, request_id=str(uuid.uuid4()))
    )
    return caller, uuid.UUID(operation.name.removeprefix("operations/"))


async def _stored_state(wired: Wired, user_id: str) -> str:
    async with wired.engine.connect() as conn:
        return str(
            (
                await conn.execute(text("SELECT state FROM identity.users WHERE id = :u"), {"u": user_id})
            ).scalar_one()
        )


async def _commit_on_the_ledger(conn: AsyncConnection, command_id: uuid.UUID) -> None:
    """What the outbox worker and the projector record once the ledger committed the command."""
    tx_id = uuid.uuid4().hex
    await conn.execute(
        text("UPDATE outbox.commands SET status = 'COMMITTED', tx_id = :tx, block_number = 7 WHERE id = :id"),
        {"tx": tx_id, "id": command_id},
    )
    await conn.execute(
        text("INSERT INTO ledger.projected_txs (tx_id, block_number, event_count) VALUES (:tx, 7, 1)"),
        {"tx": tx_id},
    )


async def test_the_read_that_finds_the_create_user_command_committed_promotes_the_user(
    wired: Wired, fast: IdentityUseCases, reads: StatementBatch
) -> None:
    caller, command_id = await _approved_user(wired)
    # Pending and not committed: the fast path hands the read back, which answers pending.
    assert await fast._own_profile(reads, caller, uuid.UUID(caller.user_id)) is None
    pending = await fast.get_user(caller, "me")
    assert pending.user.state == identity_pb2.USER_STATE_APPROVED_PENDING_ONCHAIN
    assert pending == await wired.usecases.get_user(caller, "me")

    async with wired.engine.begin() as conn:
        await _commit_on_the_ledger(conn, command_id)
    assert await _stored_state(wired, caller.user_id) == "APPROVED_PENDING_ONCHAIN"
    promoted = await fast.get_user(caller, "me")
    assert promoted.user.state == identity_pb2.USER_STATE_ACTIVE
    assert await _stored_state(wired, caller.user_id) == "ACTIVE"
    # From now on the fast path answers it, the same as the transactional path.
    assert await fast._own_profile(reads, caller, uuid.UUID(caller.user_id)) is not None
    again = await fast.get_user(caller, "me")
    assert again == await wired.usecases.get_user(caller, "me")
    assert again.user.state == identity_pb2.USER_STATE_ACTIVE


async def test_a_frozen_pending_user_is_promoted_too_and_still_reads_frozen(
    wired: Wired, fast: IdentityUseCases
) -> None:
    caller, command_id = await _approved_user(wired)
    async with wired.engine.begin() as conn:
        await conn.execute(
            text("UPDATE identity.users SET frozen = true, frozen_reason = 'review' WHERE id = :u"),
            {"u": caller.user_id},
        )
        await _commit_on_the_ledger(conn, command_id)
    answer = await fast.get_user(caller, "me")
    assert answer.user.state == identity_pb2.USER_STATE_FROZEN
    assert await _stored_state(wired, caller.user_id) == "ACTIVE"


def test_the_statement_is_found_by_the_declared_sql_check() -> None:
    # tests/unit/common/test_common_declared_sql.py checks every hand-written statement it finds
    # against the declared tables; this one must be among them, or a renamed column would pass.
    from tests.unit.common import declared_sql

    found = [s for s in declared_sql.all_statements(frozenset({"identity"})) if "profiles.py" in s.where]
    assert found and any("identity.users" in s.sql for s in found)


def test_the_state_handed_back_is_a_stored_lifecycle_state() -> None:
    # A misspelt constant would send the pending user down the fast path, unpromoted.
    assert profiles.PENDING_STATE in LIFECYCLE_STATES
