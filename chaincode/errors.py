"""Business rejections: the chaincode's answer when a request breaks a rule (never retried)."""

from __future__ import annotations


class Rejection(Exception):
    """A request that breaks a business rule; the transaction is not endorsed.

    The chaincode answers with Fabric response status ``status`` (4xx, so the endorser refuses
    it and the client classifies it as a business failure, not a transient one) and the message
    ``"<REASON>: <detail>"``.

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


class NotFound(Rejection):
    """The object a request names does not exist."""

    status = 404

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what.upper()}_NOT_FOUND", f"{what} {ident!r} does not exist")


class PermissionDenied(Rejection):
    """The submitter's certificate lacks the role the function needs."""

    status = 403

    def __init__(self, detail: str) -> None:
        super().__init__("PERMISSION_DENIED", detail)
