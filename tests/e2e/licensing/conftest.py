"""Shared fixtures of licensing's end-to-end tests; each module starts its own edge stack (`stack`)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.stack import EdgeStack


@pytest.fixture(scope="module")
def http(stack: EdgeStack) -> Iterator[httpx.Client]:
    """An HTTP client on the module's edge (its REST listener)."""
    with httpx.Client(base_url=stack.rest_url, timeout=30) as client:
        yield client
