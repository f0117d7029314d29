"""Unit tests of the error hierarchy's conversion to google.rpc.Status."""

from __future__ import annotations

import grpc
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from services.common import errors


def test_gx_error_becomes_status_with_error_info() -> None:
    err = errors.NotFound("no such user", reason="USER_NOT_FOUND", metadata={"user_id": "u1"})
    status = errors.to_status_proto(err, "identity.gx")
    assert status.code == code_pb2.NOT_FOUND
    assert status.message == "no such user"
    info, bad = errors.details_of(status)
    assert info is not None and bad is None
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "USER_NOT_FOUND",
        "identity.gx",
        {"user_id": "u1"},
    )


def test_invalid_argument_carries_field_violations() -> None:
    err = errors.InvalidArgument(
        violations=[
            errors.FieldViolation("user.email", "must be an email address"),
            errors.FieldViolation("x", "is required"),
        ]
    )
    status = errors.to_status_proto(err, "wallet.gx")
    info, bad = errors.details_of(status)
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert info is not None and info.reason == "INVALID_ARGUMENT"
    assert bad is not None
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("user.email", "must be an email address"),
        ("x", "is required"),
    ]


def test_retry_after_adds_retry_info() -> None:
    status = errors.to_status_proto(
        errors.ResourceExhausted("locked", reason="ACCOUNT_LOCKED", retry_after=90.5), "identity.gx"
    )
    retry = [d for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]
    assert len(retry) == 1
    info = error_details_pb2.RetryInfo()
    retry[0].Unpack(info)
    assert (info.retry_delay.seconds, info.retry_delay.nanos) == (90, 500_000_000)


def test_every_error_class_maps_to_its_code() -> None:
    expected = {
        errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
        errors.NotFound: grpc.StatusCode.NOT_FOUND,
        errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
        errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
        errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
        errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
        errors.Aborted: grpc.StatusCode.ABORTED,
        errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
        errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
        errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    }
    for cls, code in expected.items():
        status = errors.to_status_proto(cls("m"), "d.gx")
        assert status.code == code.value[0]
        info, _ = errors.details_of(status)
        assert info is not None and info.reason == code.name


def test_internal_status_leaks_nothing() -> None:
    status = errors.internal_status_proto("identity.gx")
    assert status.code == code_pb2.INTERNAL
    assert status.message == "internal error"


def test_grpc_status_round_trips_details_in_trailing_metadata() -> None:
    status = errors.to_status_proto(errors.AlreadyExists("dup", reason="EMAIL_TAKEN"), "identity.gx")
    wrapped = errors.to_grpc_status(status)
    assert wrapped.code == grpc.StatusCode.ALREADY_EXISTS
    key, value = wrapped.trailing_metadata[0]
    assert key == rpc_status.GRPC_DETAILS_METADATA_KEY
    assert value == status.SerializeToString()
