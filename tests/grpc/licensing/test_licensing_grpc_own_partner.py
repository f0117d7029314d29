"""`GET /v1/partners/me` in one statement (services/licensing/own_partner.py) answers what the general path answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text

from services.common.db import libpq_dsn
from services.common.statement_batch import StatementBatch
from services.licensing import convert, own_partner, repository
from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import active_partner
from tests.grpc.wallet.wallet_harness import failure

_TIMES = (
    datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2999, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
)


@pytest.fixture
async def reads(mesh: Mesh) -> AsyncIterator[StatementBatch]:
    dsn = libpq_dsn(mesh.engine.url.render_as_string(hide_password=False))
    async with AsyncConnectionPool(dsn, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
        yield StatementBatch(pool, "test", registry=CollectorRegistry())


async def _stored(mesh: Mesh, **columns: object) -> uuid.UUID:
    """A partners row as given (any state, owner or none, reason or none, odd times)."""
    partner_id = uuid.uuid4()
    row = {
        "id": partner_id,
        "name": "Row shape",
        "email": f"shape-{partner_id.hex[:10]}@example.com",
        "contact_person": "R. Shape",
        "country_code": "",
        "state": "ACTIVE",
        "owner_user_id": None,
        "suspend_reason": None,
        "created_at": _TIMES[0],
        "updated_at": _TIMES[0],
        **columns,
    }
    async with mesh.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO licensing.partners (id, name, email, contact_person, country_code, state,"
                " owner_user_id, suspend_reason, created_at, updated_at) VALUES (:id, :name, :email,"
                " :contact_person, :country_code, :state, :owner_user_id, :suspend_reason, :created_at,"
                " :updated_at)"
            ),
            row,
        )
    return partner_id


async def test_the_row_shaped_by_postgresql_equals_the_partner_of_the_table_row(
    mesh: Mesh, reads: StatementBatch
) -> None:
    # Every column that could go wrong by position, NULL or time arithmetic: each state, an owner
    # or none, a reason or none, a country or none, times with microseconds and before 1970.
    shapes = [
        {"state": state, "owner_user_id": owner, "suspend_reason": reason, "country_code": country}
        for state in ("PENDING", "ACTIVE", "SUSPENDED")
        for owner in (None, "new")
        for reason in (None, "unpaid invoices")
        for country in ("", "LK")
    ]
    for n, shape in enumerate(shapes):
        owner = uuid.uuid4() if shape["owner_user_id"] == "new" else None
        partner_id = await _stored(
            mesh,
            **{**shape, "owner_user_id": owner},
            created_at=_TIMES[n % len(_TIMES)],
            updated_at=_TIMES[(n + 1) % len(_TIMES)],
        )
        async with mesh.engine.connect() as conn:
            expected = convert.partner(await repository.partner_by_id(conn, partner_id))
        fast = pb.Partner()
        convert.set_partner(fast, await own_partner.partner_by_id(reads, partner_id) or ())
        assert fast == expected, shape
        assert fast.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
        if owner is not None:
            by_owner = pb.Partner()
            convert.set_partner(by_owner, await own_partner.partner_of_owner(reads, owner) or ())
            assert by_owner == expected
    assert await own_partner.partner_by_id(reads, uuid.uuid4()) is None
    assert await own_partner.partner_of_owner(reads, uuid.uuid4()) is None


async def test_me_through_the_server_equals_the_read_by_id_and_misses_like_it(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    me = (await mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id="me"), metadata=partner.owner)).partner
    by_id = (
        await mesh.stub.GetPartner(
            svc.GetPartnerRequest(partner_id=partner.partner_id), metadata=partner.admin
        )
    ).partner
    assert me == by_id and me.partner_id == partner.partner_id
    # The admin owns no partner: `me` is NOT_FOUND for them, as on the general path.
    missing = await failure(
        mesh.stub.GetPartner(svc.GetPartnerRequest(partner_id="me"), metadata=partner.admin)
    )
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "PARTNER_NOT_FOUND")
    # A change is seen at once: nothing is cached between reads.
    await mesh.stub.SuspendPartner(
        svc.SuspendPartnerRequest(partner_id=partner.partner_id, reason="audit"), metadata=partner.admin
    )
    later = (
        await mesh.stub.GetPartner(
            svc.GetPartnerRequest(partner_id=partner.partner_id), metadata=partner.admin
        )
    ).partner
    assert later.state == pb.PARTNER_STATE_SUSPENDED
    fresh = datetime.now(UTC) - timedelta(minutes=1)
    assert later.update_time.ToDatetime(tzinfo=UTC) > fresh


def test_the_statements_are_found_by_the_declared_sql_check() -> None:
    # tests/unit/common/test_common_declared_sql.py checks every hand-written statement it finds
    # against the declared tables; these must be among them, or a renamed column would pass.
    from tests.unit.common import declared_sql

    found = [s for s in declared_sql.all_statements(frozenset({"licensing"})) if "own_partner.py" in s.where]
    assert len(found) >= 2 and all("licensing.partners" in s.sql for s in found)
