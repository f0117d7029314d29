"""RFC 3339 timestamps in the one form json_format writes them (UTC, `Z`, 0/3/6/9 digits).

json_format parses every Timestamp with `datetime.strptime`, slow in pure Python. This reads the
canonical form with one regular expression and the same arithmetic; anything else (offsets,
unpadded fields, a leap second...) is left to json_format by returning None.
"""

from __future__ import annotations

import re
from datetime import datetime

# ASCII digits only: `\d` would also match other scripts' digits.
_CANONICAL = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z"
)
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
_SECONDS_PER_DAY = 86400
# One transaction's events repeat its time (the event time, velocity timers), and a replay meets
# each block's time many times over: a small memo saves most parses. Bounded by clearing it.
_MEMO_SIZE = 4096
_parsed: dict[str, tuple[int, int] | None] = {}


def parse(value: str) -> tuple[int, int] | None:
    """Seconds and nanos since the epoch of a canonical timestamp, or None if not canonical."""
    try:
        return _parsed[value]
    except KeyError:
        pass
    result = _parse(value)
    if len(_parsed) >= _MEMO_SIZE:
        _parsed.clear()
    _parsed[value] = result
    return result


def _parse(value: str) -> tuple[int, int] | None:
    match = _CANONICAL.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        # The same validation strptime's result gets: a real calendar date and time of day.
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    seconds = (moment.toordinal() - _EPOCH_ORDINAL) * _SECONDS_PER_DAY + (
        moment.hour * 3600 + moment.minute * 60 + moment.second
    )
    # json_format's own expression, so a rounding quirk (if any) is the same one.
    nanos = round(float("0." + fraction) * 1e9) if fraction else 0
    return seconds, nanos
