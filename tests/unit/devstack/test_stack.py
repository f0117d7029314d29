"""Part selection for `gx dev up PART...` and the start order of the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import stack
from devstack.config import StackConfig
from devstack.errors import StackError
from devstack.parts import registry


def test_selected_parts_come_with_the_infrastructure_they_need() -> None:
    assert stack.with_dependencies(["identity", "edge"]) == [
        "postgres",
        "redis",
        "migrations",
        "identity",
        "edge",
    ]


def test_workers_bring_the_ledger() -> None:
    wanted = stack.with_dependencies(["outbox"])
    assert wanted[:3] == ["postgres", "redis", "migrations"]
    assert {"devnet", "chaincode", "outbox"} <= set(wanted)
    assert wanted.index("chaincode") < wanted.index("devnet") < wanted.index("outbox")


def test_an_unknown_part_is_refused_with_the_known_ones() -> None:
    with pytest.raises(StackError, match=r"unknown part\(s\) nosuch; parts: .*postgres"):
        stack.with_dependencies(["nosuch"])


def test_registry_starts_infrastructure_first_and_the_edge_last(tmp_path: Path) -> None:
    names = [p.name for p in registry(StackConfig.on_free_ports(tmp_path))]
    assert names[:2] == ["postgres", "redis"]
    assert names[-1] == "edge"
    for before, after in (
        ("chaincode", "devnet"),
        ("devnet", "outbox"),
        ("identity", "edge"),
        ("migrations", "identity"),
    ):
        if before in names and after in names:
            assert names.index(before) < names.index(after)


def test_the_edge_fronts_only_the_selected_services(tmp_path: Path) -> None:
    parts = registry(StackConfig.on_free_ports(tmp_path), only=["postgres", "identity", "edge"])
    edge = parts[-1]
    assert edge.name == "edge"
    assert edge.services == ("identity",)  # type: ignore[attr-defined]
