"""The edge's one error: a configuration that cannot be built."""

from __future__ import annotations


class EdgeConfigError(Exception):
    """The edge configuration cannot be built from what it was given (no route, a missing file, a bad input)."""
