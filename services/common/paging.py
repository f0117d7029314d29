"""Keyset paging for every list endpoint: the page request, the "after the last row" clause and the opaque token.

One list call reads `page_size + 1` rows ordered by its keyset columns (newest first, or oldest
first), strictly after the cursor of the previous page; the extra row says whether a next page
exists. The cursor is the keyset values of the last row returned, carried in an opaque token
that is bound to the filter it was issued for (AIP-158): the same token with other filter
parameters, or anything that is not our token, is INVALID_ARGUMENT `INVALID_PAGE_TOKEN` with a
field violation on `page_token`. Keyset (not OFFSET) paging stays fast and stable while rows
arrive at the head of the list.

Usage (text SQL; `condition()` gives the same for SQLAlchemy Core columns):

    page = paging.request(req.page_size, req.page_token, f"loans|{status}")
    clauses, params = ["TRUE"], {"limit": page.limit}
    if (after := page.after_clause("l.create_time, l.loan_id", params)) is not None:
        clauses.append(after)
    rows = ...  # ORDER BY l.create_time DESC, l.loan_id DESC LIMIT :limit
    rows, token = page.finish(rows, lambda r: (r.create_time, r.loan_id))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, bindparam, tuple_

from services.common.errors import FieldViolation, InvalidArgument

INVALID_PAGE_TOKEN: Final = "INVALID_PAGE_TOKEN"
DEFAULT_PAGE_SIZE: Final = 50

_Row = TypeVar("_Row")

# Cursor values that JSON cannot carry as themselves are tagged, so they come back typed (a
# datetime compares as a timestamp, not as text).
_DATETIME: Final = "$t"
_UUID: Final = "$u"


def _fingerprint(filter_key: str) -> str:
    return hashlib.sha256(filter_key.encode()).hexdigest()[:16]


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {_UUID: str(value)}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_DATETIME}:
            return datetime.fromisoformat(value[_DATETIME])
        if set(value) == {_UUID}:
            return uuid.UUID(value[_UUID])
        raise ValueError("not a cursor value")
    if isinstance(value, list):
        return [_load(v) for v in value]
    return value


def encode(cursor: Any, filter_key: str) -> str:
    """A token for the page after `cursor` (JSON values, datetimes, UUIDs, or lists of them), valid only with the same filter."""
    raw = json.dumps({"c": _dump(cursor), "f": _fingerprint(filter_key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, filter_key: str, field: str = "page_token") -> Any:
    """The cursor of `token` (as it was encoded; a tuple comes back as a list), or None for an empty token.

    Raises:
        InvalidArgument: INVALID_PAGE_TOKEN when it is not ours or the filter changed.
    """
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        cursor, fingerprint = _load(data["c"]), data["f"]
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise _bad(field, "the page token is malformed") from None
    if fingerprint != _fingerprint(filter_key):
        raise _bad(field, "the page token belongs to a request with other parameters")
    return cursor


def page_size(requested: int, default: int = DEFAULT_PAGE_SIZE, maximum: int | None = None) -> int:
    """The page size to use: the requested one (at most `maximum`), or `default` for 0."""
    size = requested or default
    return min(size, maximum) if maximum is not None else size


@dataclass(frozen=True)
class PageRequest:
    """One list call's page: its size, the cursor to continue after, and the filter it is bound to.

    Attributes:
        size: Rows to return.
        after: The keyset values of the previous page's last row, or None on the first page.
        filter_key: Everything that selects the rows (not the page): a token is valid only with it.
        descending: The list's order (newest first by default).
        field: The request field the token came in, for the error.
    """

    size: int
    after: tuple[Any, ...] | None
    filter_key: str
    descending: bool = True
    field: str = "page_token"

    @property
    def limit(self) -> int:
        """Rows to read: one more than the page, to know whether another page follows."""
        return self.size + 1

    def cursor(self, width: int) -> tuple[Any, ...] | None:
        """The cursor's `width` keyset values (for a query that builds its own clause), or None on the first page.

        Raises:
            InvalidArgument: INVALID_PAGE_TOKEN when the token holds another number of values
                (a token of another list).
        """
        if self.after is None:
            return None
        return self._values(width)

    def _values(self, width: int) -> tuple[Any, ...]:
        assert self.after is not None
        if len(self.after) != width:
            raise _bad(self.field, "the page token belongs to another list")
        return self.after

    def after_clause(self, columns: str, params: dict[str, Any], *, prefix: str = "after") -> str | None:
        """`(c1, c2) < (:after_0, :after_1)` (`>` when ascending) with its values added to `params`.

        Args:
            columns: The keyset columns as SQL, comma-separated, in ORDER BY order (all in the
                one direction of the list, the last one unique).
            params: The statement's parameters; the cursor values are added.
            prefix: Parameter name prefix (change it if `after_0` is taken).

        Returns:
            The clause, or None on the first page.
        """
        if self.after is None:
            return None
        names = [c.strip() for c in columns.split(",")]
        values = self._values(len(names))
        keys = [f"{prefix}_{i}" for i in range(len(names))]
        params.update(zip(keys, values, strict=True))
        op = "<" if self.descending else ">"
        return f"({', '.join(names)}) {op} ({', '.join(':' + k for k in keys)})"

    def condition(self, *columns: ColumnElement[Any]) -> ColumnElement[bool] | None:
        """The same clause for SQLAlchemy Core columns (values bound with the columns' types); None on the first page."""
        if self.after is None:
            return None
        values = self._values(len(columns))
        after = tuple_(*(bindparam(None, v, type_=c.type) for c, v in zip(columns, values, strict=True)))
        keys = tuple_(*columns)
        return keys < after if self.descending else keys > after

    def finish(self, rows: Sequence[_Row], key: Callable[[_Row], Sequence[Any]]) -> tuple[list[_Row], str]:
        """The page (the extra row dropped) and the next page's token ("" on the last page).

        Args:
            rows: What the query returned, read with `limit`.
            key: The keyset values of a row, in the order `after_clause` got its columns.
        """
        page = list(rows[: self.size])
        if len(rows) <= self.size or not page:
            return page, ""
        return page, encode(list(key(page[-1])), self.filter_key)


def request(
    size: int,
    token: str,
    filter_key: str,
    *,
    default: int = DEFAULT_PAGE_SIZE,
    maximum: int | None = None,
    descending: bool = True,
    field: str = "page_token",
) -> PageRequest:
    """Read a list request's `page_size` and `page_token`.

    Args:
        size: The requested page size (0: `default`).
        token: The page token ("" for the first page).
        filter_key: The request's filter, as one string (what a token is bound to).
        default: The page size when none is asked for.
        maximum: The largest page served (a larger request is served this many).
        descending: The list's order.
        field: The token's field name, for the error.

    Raises:
        InvalidArgument: INVALID_PAGE_TOKEN for a token that is not ours, of another filter, or of
            another list.
    """
    cursor = decode(token, filter_key, field)
    if cursor is not None and not isinstance(cursor, list):
        raise _bad(field, "the page token belongs to another list")
    after = tuple(cursor) if cursor is not None else None
    return PageRequest(page_size(size, default, maximum), after, filter_key, descending, field)


def _bad(field: str, description: str) -> InvalidArgument:
    return InvalidArgument(
        description, violations=[FieldViolation(field, description)], reason=INVALID_PAGE_TOKEN
    )
