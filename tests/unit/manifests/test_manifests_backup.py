"""The backup CronJob's command against a real PostgreSQL: whole dumps that restore, and retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import yaml

from devstack.postgres import bin_dir
from manifests import backup, validate
from tests.support.stack import PostgresHandle
from tests.unit.manifests.kustomize import ROOT


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture()
def source(postgres: PostgresHandle) -> Iterator[str]:
    """A database with a schema and rows, like the services' own."""
    url = postgres.create_database("backup")
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA wallet; CREATE TABLE wallet.accounts (id int PRIMARY KEY, balance_qirat bigint)"
        )
        conn.execute("INSERT INTO wallet.accounts SELECT i, i * 1000 FROM generate_series(1, 500) i")
    try:
        yield url
    finally:
        postgres.drop_database(url)


def test_a_dump_restores_into_an_empty_database(
    source: str, postgres: PostgresHandle, tmp_path: Path
) -> None:
    written = backup.run({"GX_DATABASE__URL": source, "GX_BACKUP_DIR": str(tmp_path)})
    assert [p.name for p in tmp_path.iterdir()] == [written.name]
    target = postgres.create_database("restored")
    try:
        backup.restore(target, written, str(bin_dir() / "pg_restore"))
        with psycopg.connect(_libpq(target)) as conn:
            row = conn.execute("SELECT count(*), sum(balance_qirat) FROM wallet.accounts").fetchone()
        assert row == (500, 1000 * 500 * 501 // 2)
    finally:
        postgres.drop_database(target)


def test_a_restore_replaces_what_changed_since_the_dump(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = backup.run({"GX_DATABASE__URL": source, "GX_BACKUP_DIR": str(tmp_path)})
    with psycopg.connect(_libpq(source), autocommit=True) as conn:
        conn.execute(
            "DELETE FROM wallet.accounts WHERE id > 10; UPDATE wallet.accounts SET balance_qirat = 0"
        )
    monkeypatch.setenv("GX_DATABASE__URL", source)
    assert backup.main(["--restore", str(written)]) == 0
    with psycopg.connect(_libpq(source)) as conn:
        assert conn.execute("SELECT count(*), min(balance_qirat) FROM wallet.accounts").fetchone() == (
            500,
            1000,
        )


def test_a_failed_restore_changes_nothing(source: str, tmp_path: Path) -> None:
    broken = tmp_path / "gx-broken.dump"
    broken.write_bytes(b"PGDMP not really")
    with pytest.raises(RuntimeError, match="pg_restore failed"):
        backup.restore(source, broken, str(bin_dir() / "pg_restore"))
    with psycopg.connect(_libpq(source)) as conn:
        assert conn.execute("SELECT count(*) FROM wallet.accounts").fetchone() == (500,)


def test_only_the_newest_dumps_are_kept(source: str, tmp_path: Path) -> None:
    start = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    (tmp_path / "gx-20261130T030000Z.dump.partial").write_bytes(b"killed mid-dump")
    env = {"GX_DATABASE__URL": source, "GX_BACKUP_DIR": str(tmp_path), "GX_BACKUP_KEEP": "2"}
    for day in range(4):
        backup.run(env, now=start + timedelta(days=day))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gx-20261203T030000Z.dump",
        "gx-20261204T030000Z.dump",
    ]


def test_a_failed_dump_leaves_nothing(postgres: PostgresHandle, tmp_path: Path) -> None:
    missing = postgres.url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(RuntimeError, match="no_such_database"):
        backup.run({"GX_DATABASE__URL": missing, "GX_BACKUP_DIR": str(tmp_path)})
    assert list(tmp_path.iterdir()) == []


def test_missing_settings_name_themselves(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="GX_DATABASE__URL"):
        backup.run({"GX_BACKUP_DIR": str(tmp_path)})
    with pytest.raises(SystemExit, match="GX_BACKUP_KEEP"):
        backup.run(
            {"GX_DATABASE__URL": "postgresql://x/y", "GX_BACKUP_DIR": str(tmp_path), "GX_BACKUP_KEEP": "0"}
        )
    with pytest.raises(SystemExit, match="GX_BACKUP_DIR"):
        backup.run({"GX_DATABASE__URL": "postgresql://x/y", "GX_BACKUP_DIR": str(tmp_path / "absent")})


def test_the_password_goes_to_the_environment_not_the_command_line() -> None:
    env = backup.libpq_environment("postgresql+psycopg://gx:s3cr%40t@db.internal:6432/gx?sslmode=verify-full")
    assert env == {
        "PGHOST": "db.internal", "PGPORT": "6432", "PGUSER": "gx", "PGDATABASE": "gx",
        "PGPASSWORD": "s3cr@t", "PGSSLMODE": "verify-full",
    }  # fmt: skip


def test_the_restore_runbooks_pod_is_valid_and_reaches_only_postgres() -> None:
    # The pod docs/runbooks/restore.md applies: strictly valid, and the backup policy's label.
    text = (ROOT / "docs" / "runbooks" / "restore.md").read_text()
    manifest = text.split("apply -f - <<EOF\n", 1)[1].split("\nEOF\n", 1)[0]
    pod = yaml.safe_load(manifest.replace("$IMAGE", "registry.example.com/gx/gx-mesh:v1.0.0"))
    assert validate.problems([pod]) == []
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == "gx-db-backup"
    (container,) = pod["spec"]["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/backup"]["readOnly"] is True
    assert "python -m manifests.backup --restore" in text
    assert "gx projector rebuild" in text
