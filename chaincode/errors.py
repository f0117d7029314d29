"""The chaincode's own rejections: a missing object and a missing role.

A rule's refusal is `ledger_rules.errors.Rejection` (shared with the services); these two only
the chaincode raises, since only it looks up ledger state and reads the submitter's certificate.
"""

from __future__ import annotations

from ledger_rules.errors import Rejection


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
