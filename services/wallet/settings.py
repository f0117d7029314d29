"""The wallet process's settings: the shared groups plus `GX_WALLET__*`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from services.common.settings import ServiceSettings

# The repository's shipped data, found from this file so the process works from any cwd.
_REPO_ROOT = Path(__file__).resolve().parents[2]


class WalletOptions(BaseModel):
    """Wallet's own settings (`GX_WALLET__*`)."""

    # InitializeCountries with an empty list loads this file (proto JSON of the ledger request).
    countries_file: Path = _REPO_ROOT / "data" / "countries.json"
    # The longest a WaitOperation call may hold a connection, whatever the client asks.
    max_wait_seconds: float = Field(default=60.0, gt=0, le=600)
    # Users' history pages kept and answered again while their history is unchanged
    # (services/wallet/history_pages.py); 0 keeps none. A 50-row page is about 28 kB in memory.
    history_pages: int = Field(default=256, ge=0)


class WalletSettings(ServiceSettings):
    """Settings of `python -m services.wallet`."""

    service_name: str = "wallet"
    listen: str = "127.0.0.1:50052"
    wallet: WalletOptions = WalletOptions()
