"""The ledger command identity records: CreateUser, built from the shared gx.ledger.v1 message."""

from __future__ import annotations

from datetime import date

from gx.ledger.v1 import commands_pb2


def create_user_request(
    user_id: str, country_code: str, date_of_birth: date, request_id: str
) -> commands_pb2.CreateUserRequest:
    """The CREATE_USER command's payload.

    Args:
        user_id: The identity user id; it becomes the on-chain account id.
        country_code: The KYC nationality (ISO 3166-1 alpha-2); it decides genesis.
        date_of_birth: From the KYC submission; the chaincode derives age from the tx time.
        request_id: The ApproveKyc request id, so re-submissions create the user once.

    Returns:
        The gx.ledger.v1.CreateUserRequest message.
    """
    return commands_pb2.CreateUserRequest(
        user_id=user_id,
        country_code=country_code,
        date_of_birth=date_of_birth.isoformat(),
        request_id=request_id,
    )
