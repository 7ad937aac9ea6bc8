"""Backups are zstd-compressed (issue 29); backups written the old way (gzip, pg_dump's own) still restore."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradeops.backup import BackupError, BackupRepository
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("DC-39")

ZSTD_MAGIC = bytes.fromhex("28b52ffd")  # RFC 8878: every zstd frame starts with these bytes


@pytest.fixture
def repository(database_url, tmp_path) -> BackupRepository:
    return BackupRepository(database_url, open_object_store((tmp_path / "objects").as_uri()))


def old_dump(repository: BackupRepository) -> bytes:
    """The dump object as the code before issue 29 wrote it: SQLite's backup API copy gzipped at level 6, or
    `pg_dump -Fc` with pg_dump's default compression."""
    database = repository.database
    if database.kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            copy_path = Path(folder) / "copy.db"
            with (
                contextlib.closing(sqlite3.connect(database.path)) as source,  # type: ignore[attr-defined]
                contextlib.closing(sqlite3.connect(copy_path)) as copy,
            ):
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
            return gzip.compress(copy_path.read_bytes(), compresslevel=6)
    return subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--dbname={database.url}"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


def write_old_backup(repository: BackupRepository, backup_id: str) -> None:
    """A backup with the manifest shape of before issue 29: no `codec` field."""
    dump = old_dump(repository)
    manifest = {
        "id": backup_id,
        "database": repository.database.kind,
        "kind": "scheduled",
        "label": None,
        "created_at": datetime.now(UTC).isoformat(),
        "app_version": "0.0.0",
        "size_bytes": len(dump),
        "sha256": hashlib.sha256(dump).hexdigest(),
        "tables": repository.database.table_counts(),
        "dump_seconds": 0.1,
    }
    repository.objects.put(f"backups/{backup_id}/dump", dump)
    repository.objects.put(f"backups/{backup_id}/manifest.json", json.dumps(manifest).encode(), "application/json")


def test_dc_39_a_new_backup_is_zstd_and_its_manifest_says_so(repository):
    before = repository.database.table_checksums()
    manifest = repository.create()
    stored = repository.objects.get(f"backups/{manifest.id}/dump")
    assert stored[:4] == ZSTD_MAGIC
    assert json.loads(repository.objects.get(f"backups/{manifest.id}/manifest.json"))["codec"] == "zstd"
    assert repository.verify(manifest.id).tables_checked == len(before)
    with repository.database.scratch() as scratch:
        repository.restore(manifest.id, target_url=scratch, confirmed=True)
        assert repository.database.table_checksums(scratch) == before


def test_dc_39_a_backup_written_the_old_way_still_verifies_and_restores(repository):
    before = repository.database.table_checksums()
    write_old_backup(repository, "20250101T000000Z-0ld0ld")
    assert repository.manifest("20250101T000000Z-0ld0ld").codec == (
        "gzip" if "sqlite" in repository.database.kind else "none"
    )
    assert repository.verify("20250101T000000Z-0ld0ld").tables_checked == len(before)
    with repository.database.scratch() as scratch:
        repository.restore("20250101T000000Z-0ld0ld", target_url=scratch, confirmed=True)
        assert repository.database.table_checksums(scratch) == before


def test_dc_39_a_frame_asking_for_a_huge_window_is_refused_not_allocated(tmp_path):
    import zstandard

    from tradeops.backup import codec

    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27)
    bomb = zstandard.ZstdCompressor(compression_params=params).compress(b"\0" * (64 << 20))
    with pytest.raises(BackupError, match="cannot be decompressed"):
        for _ in codec.decompress([bomb], "zstd"):
            pass
    assert (
        max(len(piece) for piece in codec.decompress([zstandard.ZstdCompressor().compress(b"\0" * (64 << 20))], "zstd"))
        <= codec.CHUNK
    )
