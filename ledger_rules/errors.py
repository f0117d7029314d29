"""Rejection: how a pure rule refuses (the chaincode answers it as a 4xx; a service maps it to a status)."""

from __future__ import annotations


class Rejection(Exception):
    """A request that breaks a business rule; the transaction is not endorsed.

    The chaincode answers with Fabric response status ``status`` (4xx, so the endorser refuses
    it and the client classifies it as a business failure, not a transient one) and the message
    ``"<REASON>: <detail>"``. A service that pre-checks with the same rule maps ``reason`` to its
    own gRPC status.

    Attributes:
        reason: A stable UPPER_SNAKE reason clients can branch on.
        detail: A human-readable explanation.
        status: The Fabric response status: 400 invalid or refused, 403 role, 404 not found.
    """

    status = 400

    def __init__(self, reason: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        if status is not None:
            self.status = status
