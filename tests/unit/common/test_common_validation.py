"""Unit tests of descriptor-driven request validation."""

from __future__ import annotations

import pytest

from services.common import validation
from services.common.errors import InvalidArgument
from tests.grpc.common.runtime_test_proto import COLOR_RED, Address, Document, EchoRequest

_HEX = "ab" * 32


def _valid(**kw: object) -> EchoRequest:
    base = {"email": "a@example.com", "color": COLOR_RED}
    base.update(kw)
    return EchoRequest(**base)


def _fields(message: EchoRequest) -> dict[str, str]:
    return {v.field: v.description for v in validation.violations(message)}


def test_valid_request_has_no_violations() -> None:
    msg = _valid(
        request_id="123e4567-e89b-12d3-a456-426614174000",
        name="abc",
        amount=1,
        page_size=100,
        address=Address(country_code="LK"),
        documents=[Document(sha256=_HEX)],
        tags=["a", "b"],
    )
    assert validation.violations(msg) == []
    validation.validate(msg)


def test_required_scalar_and_enum_defined_are_reported() -> None:
    assert _fields(EchoRequest()) == {"email": "is required", "color": "must not be unspecified"}


@pytest.mark.parametrize(
    ("kwargs", "field", "description"),
    [
        ({"request_id": "not-a-uuid"}, "request_id", "must be a UUID (8-4-4-4-12 hex digits)"),
        ({"email": "no-at-sign"}, "email", "must be an email address"),
        ({"email": "a@b"}, "email", "must be an email address"),
        ({"email": "x" * 250 + "@b.co"}, "email", "must be an email address"),
        ({"name": "a"}, "name", "must be at least 2 characters"),
        ({"name": "abcdef"}, "name", "must be at most 5 characters"),
        ({"amount": -5}, "amount", "must be greater than 0"),
        ({"page_size": 101}, "page_size", "must be at most 100"),
        ({"page_size": -1}, "page_size", "must be at least 0"),
        ({"color": 9}, "color", "must be one of the defined values"),
    ],
)
def test_each_rule_reports_its_field(kwargs: dict, field: str, description: str) -> None:
    assert _fields(_valid(**kwargs)) == {field: description}


def test_min_len_counts_characters_not_bytes() -> None:
    assert _fields(_valid(name="éé")) == {}
    assert _fields(_valid(name="ééééé")) == {}


def test_unset_optional_fields_skip_their_rules() -> None:
    # amount (gt 0), name (min_len), request_id (uuid) are optional: unset means no check.
    assert _fields(_valid()) == {}


def test_explicit_presence_field_is_checked_when_set_even_to_zero() -> None:
    msg = _valid()
    msg.limit = 0
    assert _fields(msg) == {"limit": "must be at least 1"}


def test_nested_and_repeated_violations_carry_paths() -> None:
    msg = _valid(
        address=Address(country_code="lk"),
        documents=[Document(sha256=_HEX), Document(), Document(sha256="zz")],
        tags=["ok", "NO", "x", "y"],
    )
    assert _fields(msg) == {
        "address.country_code": "must match the pattern [A-Z]{2}",
        "documents": "must have at most 2 items",
        "documents[1].sha256": "is required",
        "documents[2].sha256": "must match the pattern [0-9a-f]{64}",
        "tags": "must have at most 3 items",
        "tags[1]": "must match the pattern [a-z]+",
    }


def test_output_only_fields_are_ignored_even_if_marked_required() -> None:
    assert "server_note" not in _fields(EchoRequest())
    assert _fields(_valid(server_note="anything")) == {}


def test_validate_raises_all_violations_at_once() -> None:
    with pytest.raises(InvalidArgument) as err:
        validation.validate(EchoRequest(name="a"))
    assert err.value.reason == "INVALID_FIELDS"
    assert [v.field for v in err.value.violations] == ["email", "name", "color"]


def test_plan_is_cached_per_message_type() -> None:
    assert validation.plan_for(EchoRequest.DESCRIPTOR) is validation.plan_for(EchoRequest.DESCRIPTOR)


def test_types_without_rules_are_skipped() -> None:
    from google.protobuf import timestamp_pb2

    assert not validation.plan_for(timestamp_pb2.Timestamp.DESCRIPTOR).has_rules


def test_requests_of_infrastructure_protocols_are_not_held_to_our_rules() -> None:
    # Envoy's ext_authz CheckRequest has enums deep inside (a socket address's protocol): under our
    # rules an unset or future value would be refused, failing a partner's key check closed, and
    # every check paid for the walk. Envoy, gRPC health and reflection are trusted infrastructure.
    from envoy.config.core.v3 import address_pb2
    from envoy.service.auth.v3 import external_auth_pb2
    from grpc_health.v1 import health_pb2

    check = external_auth_pb2.CheckRequest()
    peer = check.attributes.source.address.socket_address
    peer.address, peer.port_value = "10.0.0.1", 4242
    peer.protocol = 7  # no such SocketAddress.Protocol
    assert validation.plan_for(external_auth_pb2.CheckRequest.DESCRIPTOR).has_rules  # it would be walked
    assert peer.protocol not in address_pb2.SocketAddress.Protocol.values()
    assert validation.violations(check)  # what our rules would say of it
    assert not validation.governs(external_auth_pb2.CheckRequest.DESCRIPTOR)
    validation.validate(check)  # passes as it is
    assert not validation.governs(health_pb2.HealthCheckRequest.DESCRIPTOR)
    # Ours still are, the test protocol's too.
    assert validation.governs(EchoRequest.DESCRIPTOR)
    with pytest.raises(InvalidArgument):
        validation.validate(EchoRequest())
