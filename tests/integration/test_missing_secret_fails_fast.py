"""A process started outside dev without a required setting exits at once with one line naming it.

Each process is started for real (`python -m <module>`), with nothing but GX_ENVIRONMENT and what
the case gives; nothing it would connect to exists, so only the settings check can end it quickly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.settings import MissingSettingError
from services.identity.settings import IdentitySettings
from services.wallet.settings import WalletSettings

# An address nothing listens on: a process that got past its settings would hang or fail here later.
_DB = "postgresql+psycopg://gx@127.0.0.1:9/gx"


def _start(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GX_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-m", module], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "module", ["services.identity", "services.wallet", "services.licensing", "outbox", "projector"]
)
def test_a_process_without_its_database_url_exits_with_one_line_naming_it(module: str) -> None:
    done = _start(module, GX_ENVIRONMENT="mainnet")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{module.rsplit('.', 1)[-1]}: required setting GX_DATABASE__URL is not set (GX_ENVIRONMENT=mainnet)"
    ], done.stderr
    assert done.stdout == ""


def test_identity_without_its_keys_directory_exits_with_one_line_naming_it(tmp_path: Path) -> None:
    unset = _start("services.identity", GX_ENVIRONMENT="testnet", GX_DATABASE__URL=_DB)
    assert (unset.returncode, unset.stderr.splitlines()) == (
        1, ["identity: required setting GX_IDENTITY__KEYS_DIR is not set (GX_ENVIRONMENT=testnet)"]
    ), unset.stderr  # fmt: skip
    absent = _start(
        "services.identity",
        GX_ENVIRONMENT="testnet",
        GX_DATABASE__URL=_DB,
        GX_IDENTITY__KEYS_DIR=str(tmp_path / "no"),
    )
    assert (absent.returncode, absent.stderr.splitlines()) == (
        1, ["identity: required setting GX_IDENTITY__KEYS_DIR does not name an existing directory (GX_ENVIRONMENT=testnet)"]
    ), absent.stderr  # fmt: skip
    assert not (tmp_path / "no").exists()  # nothing was created in its place


def test_dev_keeps_its_defaults_and_a_given_setting_satisfies_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("GX_")]:
        monkeypatch.delenv(key)
    assert WalletSettings().environment == "dev"
    monkeypatch.setenv("GX_ENVIRONMENT", "mainnet")
    monkeypatch.setenv("GX_DATABASE__URL", "  ")
    with pytest.raises(MissingSettingError) as blank:
        WalletSettings()
    assert blank.value.variable == "GX_DATABASE__URL"
    monkeypatch.setenv("GX_DATABASE__URL", _DB)
    assert WalletSettings().database.url.get_secret_value() == _DB
    monkeypatch.setenv("GX_IDENTITY__KEYS_DIR", str(tmp_path))
    assert IdentitySettings().identity.keys_dir == tmp_path
