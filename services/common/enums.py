"""Proto enum values by their short names (`ACTIVE` for `PARTNER_STATE_ACTIVE`), read from the enum itself.

Tables stored in PostgreSQL and token claims use the short spelling; deriving the mapping from the
enum's descriptor keeps the proto the one place that lists the values (a value added there is
known here without an edit).
"""

from __future__ import annotations

from typing import Protocol, TypeVar, cast


class _Enum(Protocol):
    def items(self) -> list[tuple[str, int]]: ...


# A generated enum class (an `int` subclass whose metaclass lists the values); the mapping's
# values keep its type, so `User(state=STATES["ACTIVE"])` type-checks without casts at the call.
E = TypeVar("E", bound=int)


def by_short_name(enum: type[E]) -> dict[str, E]:
    """Every value but the zero one, keyed by its name without the enum's prefix.

    The prefix is what buf's STANDARD lint requires on every value: the zero value's name
    without `UNSPECIFIED` (`PARTNER_STATE_` for `PARTNER_STATE_UNSPECIFIED`).
    """
    values = cast(_Enum, enum).items()
    zero = next(name for name, number in values if number == 0)
    prefix = zero.removesuffix("UNSPECIFIED")
    return {name.removeprefix(prefix): cast(E, number) for name, number in values if number != 0}
