"""The edge stack for identity's end-to-end tests: the launcher's own code, identity as the only service.

Identity's flows need only PostgreSQL, Redis, the migrations, identity and Envoy; starting just
those keeps these tests about identity (a half-built sibling service cannot fail them) and fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import EdgeStack, running_edge_stack

_PARTS = ("postgres", "redis", "migrations", "identity", "edge")


@pytest.fixture(scope="session")
def identity_edge() -> Iterator[EdgeStack]:
    """PostgreSQL, Redis, migrations, identity and Envoy on free ports; all stopped afterwards."""
    with running_edge_stack(parts=_PARTS) as stack:
        yield stack
