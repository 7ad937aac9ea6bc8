"""Backups: round trips on SQLite and PostgreSQL, folder and S3; corruption, truncation, interruption."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tradeops.backup import BackupError, BackupRepository
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("OE-1")


@pytest.fixture
def repository(database_url, object_store_url) -> BackupRepository:
    url, endpoint = object_store_url
    return BackupRepository(database_url, open_object_store(url, endpoint))


def delete_some_runs(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM runs WHERE status = 'running'"))
        connection.execute(text("UPDATE runs SET strategy = 'tampered'"))
    engine.dispose()


def test_oe_1_backup_verify_and_restore_round_trip_every_row(repository):
    database = repository.database
    before_counts, before_sums = database.table_counts(), database.table_checksums()
    manifest = repository.create(kind="restore-point", label="v1.2.3")
    assert manifest.tables == before_counts and manifest.tables["runs"] == 120
    assert len(manifest.sha256) == 64 and manifest.size_bytes > 0 and manifest.app_version
    checked = repository.verify(manifest.id)
    assert checked.tables_checked == len(before_counts) and checked.restore_seconds > 0
    (view,) = repository.list_backups()
    assert view.verified and view.label == "v1.2.3" and view.kind == "restore-point"
    with database.scratch() as scratch:
        repository.restore(manifest.id, target_url=scratch, confirmed=True)
        assert database.table_counts(scratch) == before_counts
        assert database.table_checksums(scratch) == before_sums
    recovery = repository.recovery()
    assert recovery["rpo_seconds"] >= 0 and recovery["rto_seconds"] == checked.restore_seconds


def test_oe_1_restore_brings_the_database_back_and_needs_confirmation(repository):
    database = repository.database
    sums = database.table_checksums()
    manifest = repository.create()
    delete_some_runs(database.url)
    changed = database.table_checksums()
    with pytest.raises(BackupError, match="add --yes to confirm"):
        repository.restore(manifest.id)
    assert database.table_checksums() == changed
    repository.restore(manifest.id, confirmed=True)
    assert database.table_checksums() == sums


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-7], "truncated or padded"),
        (lambda data: data[:100] + bytes([data[100] ^ 0xFF]) + data[101:], "corrupted: SHA-256"),
    ],
)
def test_oe_1_a_damaged_backup_fails_verify_and_restore_and_changes_nothing(repository, damage, message):
    database = repository.database
    manifest = repository.create()
    key = f"backups/{manifest.id}/dump"
    repository.objects.put(key, damage(repository.objects.get(key)))
    delete_some_runs(database.url)
    before = database.table_checksums()
    with pytest.raises(BackupError, match=message):
        repository.verify(manifest.id)
    with pytest.raises(BackupError, match=message):
        repository.restore(manifest.id, confirmed=True)
    assert database.table_checksums() == before
    assert not repository.list_backups()[0].verified


def test_oe_1_an_interrupted_upload_leaves_no_complete_looking_backup(repository, monkeypatch):
    real_dump = repository.database.dump

    def dies_midway():
        counts, chunks = real_dump()

        def broken():
            try:
                yield next(chunks)
                raise ConnectionResetError("network dropped during upload")
            finally:
                chunks.close()

        return counts, broken()

    monkeypatch.setattr(repository.database, "dump", dies_midway)
    with pytest.raises(ConnectionResetError):
        repository.create()
    assert repository.list_backups() == []
    assert repository.objects.keys("backups/") == []


def test_oe_1_unknown_and_incomplete_backups_are_explained(repository):
    with pytest.raises(BackupError, match="no backup 'nope'"):
        repository.verify("nope")
    manifest = repository.create()
    repository.objects.delete(f"backups/{manifest.id}/dump")
    with pytest.raises(BackupError, match="its dump object is missing"):
        repository.verify(manifest.id)
    with pytest.raises(BackupError, match="kind 'weekly'"):
        repository.create(kind="weekly")
