"""Nothing left behind (DC-45): what kill -9 of `backup create` and `backup restore` leaves is reclaimed by the
next run of the same command or by `tradeops cleanup`; a full scratch disk is an error naming the scratch copy.

Every command runs as a real child process with its own TMPDIR, so the bytes counted are only its own.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pipelines.bench.backup_memory import fill_sqlite

from tradeops.backup import BackupRepository
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("DC-45")
DATABASE_MIB = 24  # big enough that the copy and the upload are still going when the kill lands


def tradeops(*args: str, env: dict[str, str], limit_file_bytes: int | None = None) -> subprocess.Popen[str]:
    """Start `tradeops ARGS` as a child process (optionally with RLIMIT_FSIZE: any file it writes stops there)."""

    def limit() -> None:
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.Popen(
        [sys.executable, "-m", "tradeops.cli", *args],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def killed_when(process: subprocess.Popen[str], ready: Callable[[], bool]) -> bool:
    """SIGKILL the process as soon as `ready()`; True when it was still running then."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.005)
    running = process.poll() is None
    process.kill()
    process.wait()
    return running and ready()


def bytes_under(folder: Path, keep: Callable[[Path], bool] = lambda _path: False) -> int:
    """Bytes of every file under `folder` (hidden ones included) that `keep` does not claim."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not keep(p)) if folder.exists() else 0


def complete_backup(path: Path) -> bool:
    return (path.parent / "manifest.json").exists() and path.name in ("dump", "manifest.json")


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    folders = {name: tmp_path / name for name in ("data", "objects", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    fill_sqlite(folders["data"] / "tradeops.db", DATABASE_MIB)
    return folders


def environment(site: dict[str, Path]) -> dict[str, str]:
    return {"TRADEOPS_DATA_DIR": str(site["data"]), "TRADEOPS_OBJECT_STORE": site["objects"].as_uri(),
            "TMPDIR": str(site["tmp"])}  # fmt: skip


@pytest.mark.parametrize("then", [["backup", "create"], ["cleanup"]])
def test_dc_45_killed_backup_create_leaves_nothing_after_the_next_create_or_cleanup(site, then):
    env = environment(site)
    process = tradeops("backup", "create", env=env)
    uploading = killed_when(process, lambda: any(site["objects"].glob("backups/*/.partial-*")))
    assert uploading  # killed with the scratch copy made and the dump half uploaded
    left = bytes_under(site["tmp"]) + bytes_under(site["objects"])
    assert left > DATABASE_MIB * 2**20  # the whole uncompressed copy, at least
    code, err = finish(tradeops(*then, env=env))
    assert code == 0, err
    assert bytes_under(site["tmp"]) == 0
    assert bytes_under(site["objects"] / "backups", keep=complete_backup) == 0


@pytest.mark.parametrize("then", [["backup", "restore"], ["cleanup"]])
def test_dc_45_killed_restore_leaves_nothing_after_the_next_restore_or_cleanup(site, then):
    env = environment(site)
    database = site["data"] / "tradeops.db"
    backup_id = BackupRepository(f"sqlite:///{database}", open_object_store(site["objects"].as_uri())).create().id
    process = tradeops("backup", "restore", backup_id, "--yes", env=env)
    restoring = killed_when(process, lambda: any(p.stat().st_size for p in site["data"].glob(".restore-*")))
    assert restoring
    assert bytes_under(site["data"], keep=lambda p: not p.name.startswith(".restore-")) > 0
    code, err = finish(tradeops(*then, *([backup_id, "--yes"] if then[0] == "backup" else []), env=env))
    assert code == 0, err
    assert bytes_under(site["data"], keep=lambda p: not p.name.startswith(".restore-")) == 0
    assert bytes_under(site["tmp"]) == 0


def test_dc_45_a_full_scratch_disk_names_the_scratch_copy(site):
    # RLIMIT_FSIZE makes the child's writes past 1 MiB fail (EFBIG: Python ignores SIGXFSZ), as a full disk would
    env = environment(site)
    code, err = finish(tradeops("backup", "create", env=env, limit_file_bytes=2**20))
    last = err.strip().splitlines()[-1]
    assert code == 2 and "Traceback" not in err
    assert str(site["tmp"] / "tradeops-scratch") in last and "scratch copy" in last
    assert bytes_under(site["tmp"]) == 0  # the half copy went with the error
    assert not list(site["objects"].rglob("manifest.json"))
