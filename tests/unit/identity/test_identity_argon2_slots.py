"""How many Argon2 hashes identity runs at once, as wired from its settings (README, Memory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from services.identity.cpu import available_cpus
from services.identity.keys import KeyStore
from services.identity.server import build_all_usecases
from services.identity.settings import IdentitySettings


def _wired_slots(settings: IdentitySettings, keys_dir: Path) -> int:
    # Nothing connects: the engine and the Redis client open connections on first use only.
    engine = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    usecases, _ = build_all_usecases(
        settings, async_sessionmaker(engine), Redis(), KeyStore.open(keys_dir), registry=CollectorRegistry()
    )
    return usecases._hashing.max_concurrent


def test_one_hash_at_a_time_by_default_and_the_cpus_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("GX_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GX_IDENTITY__KEYS_DIR", str(tmp_path))
    settings = IdentitySettings()
    assert settings.identity.argon2_max_concurrent == 1
    assert _wired_slots(settings, tmp_path) == 1
    monkeypatch.setenv("GX_IDENTITY__ARGON2_MAX_CONCURRENT", "0")
    assert _wired_slots(IdentitySettings(), tmp_path) == available_cpus()
    monkeypatch.setenv("GX_IDENTITY__ARGON2_MAX_CONCURRENT", "3")
    assert _wired_slots(IdentitySettings(), tmp_path) == 3
