"""PostgreSQL client tools: a missing or too-old pg_dump is named in the error."""

from __future__ import annotations

import os
import stat

import pytest

from tradeops.backup import BackupError
from tradeops.backup.databases import open_database

pytestmark = pytest.mark.req("OE-1")


def test_oe_1_missing_or_old_tools_are_named(postgres_url, tmp_path, monkeypatch):
    database = open_database(postgres_url)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="pg_dump is not on PATH"):
        database.dump()
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.22'\n")
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(BackupError, match=r"pg_dump is version 12 but the server is PostgreSQL 18"):
        database.dump()
    assert os.environ["PATH"] == str(tmp_path)


def test_oe_1_unsupported_databases_are_refused():
    with pytest.raises(BackupError, match="use PostgreSQL or a SQLite file"):
        open_database("sqlite:///:memory:")
    with pytest.raises(BackupError, match="use PostgreSQL or a SQLite file"):
        open_database("mysql://u:p@h/db")
