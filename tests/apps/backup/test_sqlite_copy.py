"""The SQLite copy behind `backup create` (issue 29): one consistent snapshot taken while another connection keeps
committing, without waiting for the writer to stop."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest

from tradeops.backup import BackupRepository
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("DC-39")

COMMITS = 60_000  # the writer's budget: far more than the copy takes, so the copy must finish amid the commits


@pytest.mark.parametrize("journal", ["wal", "delete"])  # the store's mode (WAL), and SQLite's default
def test_dc_39_sqlite_backup_snapshots_while_a_writer_keeps_committing(tmp_path: Path, journal: str) -> None:
    database = tmp_path / "busy.db"
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        connection.execute(f"PRAGMA journal_mode={journal}")
        connection.execute("CREATE TABLE ticks (id INTEGER PRIMARY KEY, note TEXT)")
        # ~40 MiB: more than one 16 MiB step of a stepped copy, which a commit in between sends back to page 1
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
            "INSERT INTO ticks SELECT i, hex(randomblob(80)) FROM n"
        )
    repository = BackupRepository(f"sqlite:///{database}", open_object_store((tmp_path / "objects").as_uri()))
    before = repository.database.table_counts()["ticks"]

    started, stop, written = threading.Event(), threading.Event(), [0]

    def write() -> None:
        with contextlib.closing(sqlite3.connect(database, timeout=30)) as writer:
            writer.execute("PRAGMA synchronous=OFF")  # no fsync: thousands of commits a second
            for _ in range(COMMITS):
                if stop.is_set():
                    return
                with writer:
                    writer.execute("INSERT INTO ticks (note) VALUES ('late')")
                written[0] += 1
                started.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert started.wait(30)
        manifest = repository.create()
        finished_amid_writes = writer.is_alive() and not stop.is_set()
    finally:
        stop.set()
        writer.join(120)
    assert finished_amid_writes, f"create returned only after the writer's {written[0]} commits ended"
    after = repository.database.table_counts()["ticks"]
    assert before < manifest.tables["ticks"] < after  # a snapshot from amid the writes, not before nor after
    assert repository.verify(manifest.id).tables_checked == 1  # the image restores with exactly those rows
