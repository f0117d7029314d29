"""The released contracts (protos/api-baseline.json) hold every change: a break fails `make lint`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import api_baseline

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the buf workspace (buf.yaml, protos/, third_party/) to change."""
    if not (REPO_ROOT / "third_party").is_dir():
        pytest.fail("third_party/ is missing: run `make gen` (the google imports come from there)")
    shutil.copy(REPO_ROOT / "buf.yaml", tmp_path / "buf.yaml")
    for folder in ("protos", "third_party"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path.name}: the test needs another example"
    path.write_text(text.replace(old, new, 1))


def test_the_tree_keeps_the_released_contracts() -> None:
    result = api_baseline.breaking()
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_added_field_is_not_a_break(workspace: Path) -> None:
    _edit(
        workspace / "protos/gx/wallet/v1/wallet_service.proto",
        "message ListTransactionsResponse {\n",
        "message ListTransactionsResponse {\n  // Output only. A field added later.\n  string added_later = 99;\n",
    )
    result = api_baseline.breaking(workspace)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("file", "old", "new", "said"),
    [
        # An app reading history would lose the remark without a word.
        (
            "protos/gx/wallet/v1/wallet.proto",
            "  string remark = 7 [(google.api.field_behavior) = OUTPUT_ONLY];\n",
            "",
            'Previously present field "7" with name "remark"',
        ),
        # A renumbered field reads as another field on the wire, and a ledger event is forever.
        (
            "protos/gx/wallet/v1/wallet.proto",
            "int64 amount_qirat = 4 [",
            "int64 amount_qirat = 40 [",
            'Previously present field "4" with name "amount_qirat"',
        ),
        # A renamed JSON field breaks every REST client.
        (
            "protos/gx/wallet/v1/wallet.proto",
            "string counterparty = 6 [",
            "string counter_party = 6 [",
            "counterparty",
        ),
    ],
)
def test_a_break_is_refused_and_named(workspace: Path, file: str, old: str, new: str, said: str) -> None:
    _edit(workspace / file, old, new)
    result = api_baseline.breaking(workspace)
    assert result.returncode != 0
    assert said in result.stdout + result.stderr
