"""One way to open the database every store shares: SQLite locally, PostgreSQL in the cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from tradeops.store.migrate import upgrade


def open_engine(database_url: str, *, migrate: bool = True) -> Engine:
    """Return an engine for `database_url`, its schema brought to the newest revision unless told not to."""
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        if database_url.split("///", 1)[-1] not in ("", ":memory:"):
            event.listen(engine, "connect", _sqlite_wal)
    else:
        engine = create_engine(database_url, pool_pre_ping=True)
    if migrate:
        upgrade(engine)
    return engine


def aware(stamp: datetime) -> datetime:
    """Return `stamp` with UTC attached when the database gave it back naive (SQLite does)."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _sqlite_wal(connection: Any, _record: Any) -> None:
    """Write-ahead log with synchronous=NORMAL: a commit is one append to the log, no fsync per transaction.

    Still atomic and durable across a crash of the process (kill -9): the log is in the OS's page cache and
    is replayed on the next open. After a power loss or OS crash the last transactions before it may be
    lost (never half-applied); the trader then resumes from the last whole bar (docs/trader.md).
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
