"""The user search's filters (pure: the request in, SQL clauses and the page-token key out)."""

from __future__ import annotations

import pytest
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import access_pb2
from sqlalchemy.dialects import postgresql

from services.common.errors import InvalidArgument
from services.identity.backoffice import _like_prefix, _user_filters


def _sql(request: svc.ListUsersRequest) -> str:
    where, _ = _user_filters(request)
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return " AND ".join(str(c.compile(dialect=dialect)) for c in where)


def test_a_prefix_matches_literally() -> None:
    assert _like_prefix("ana") == "ana%"
    assert _like_prefix("a_b%c\\") == "a\\_b\\%c\\\\%"


def test_each_filter_adds_its_clause_and_changes_the_token_key() -> None:
    assert _user_filters(svc.ListUsersRequest()) == ([], "users||||")
    keys = {
        _user_filters(request)[1]
        for request in (
            svc.ListUsersRequest(email_prefix="Ana"),
            svc.ListUsersRequest(state=identity_pb2.USER_STATE_ACTIVE),
            svc.ListUsersRequest(role=access_pb2.ROLE_ADMIN),
            svc.ListUsersRequest(country_code="LK"),
        )
    }
    assert len(keys) == 4
    assert "lower(identity.users.email) LIKE" in _sql(svc.ListUsersRequest(email_prefix="Ana"))
    assert "ANY (identity.users.roles)" in _sql(svc.ListUsersRequest(role=access_pb2.ROLE_ADMIN))


def test_frozen_is_the_flag_and_another_state_excludes_frozen_users() -> None:
    frozen = _sql(svc.ListUsersRequest(state=identity_pb2.USER_STATE_FROZEN))
    assert "identity.users.frozen IS true" in frozen and "identity.users.state" not in frozen
    active = _sql(svc.ListUsersRequest(state=identity_pb2.USER_STATE_ACTIVE))
    assert "identity.users.state =" in active and "identity.users.frozen IS false" in active


@pytest.mark.parametrize(
    "request_",
    [
        svc.ListUsersRequest(state=99),  # type: ignore[arg-type]  # an unknown number, as the wire may carry
        svc.ListUsersRequest(role=access_pb2.ROLE_SERVICE),
    ],
)
def test_an_unknown_state_or_a_role_no_user_holds_is_refused(request_: svc.ListUsersRequest) -> None:
    with pytest.raises(InvalidArgument):
        _user_filters(request_)
