"""Identity's key directory may be a read-only mount (a Kubernetes Secret): nothing is written there."""

from __future__ import annotations

import errno
import multiprocessing
import os
from pathlib import Path

import pytest

from services.identity.keys import KeyStore


def _secret_mount(tmp_path: Path) -> Path:
    """A directory laid out as the kubelet mounts a Secret: files are symlinks into `..data`."""
    source = KeyStore.open(tmp_path / "source").current.path
    mount = tmp_path / "mount"
    data = mount / "..2026_12_06_05_00_00.000000001"
    data.mkdir(parents=True)
    (data / source.name).write_bytes(source.read_bytes())
    (mount / "..data").symlink_to(data.name)
    (mount / source.name).symlink_to(Path("..data") / source.name)
    return mount


def test_a_secret_mount_is_only_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = _secret_mount(tmp_path)
    before = sorted(os.listdir(mount))
    real_open = os.open

    def read_only_open(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        # The mount's filesystem refuses any write, as the kubelet's read-only Secret volume does.
        if str(path).startswith(str(mount)) and flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)
    store = KeyStore.open(mount)
    assert len(store.keys) == 1
    assert sorted(os.listdir(mount)) == before  # no .lock (or anything else) appeared


def test_an_existing_key_directory_gains_no_lock_file(tmp_path: Path) -> None:
    KeyStore.open(tmp_path)
    KeyStore.open(tmp_path).rotate()
    assert all(p.suffix == ".pem" for p in tmp_path.iterdir()), sorted(p.name for p in tmp_path.iterdir())


def _open_and_report(
    directory: str, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue[str]
) -> None:
    barrier.wait()
    out.put(KeyStore.open(Path(directory)).current.kid)


def test_processes_starting_together_on_an_empty_directory_create_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_open_and_report, args=(str(tmp_path), barrier, out)) for _ in range(4)]
    for proc in procs:
        proc.start()
    kids = {out.get(timeout=60) for _ in procs}
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert len(kids) == 1
    assert len(list(tmp_path.glob("*.pem"))) == 1
