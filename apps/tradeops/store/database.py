"""One way to open the database every store shares: SQLite locally, PostgreSQL in the cluster."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from tradeops.store.migrate import upgrade


def open_engine(database_url: str, *, migrate: bool = True) -> Engine:
    """Return an engine for `database_url`, its schema brought to the newest revision unless told not to."""
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
    else:
        engine = create_engine(database_url, pool_pre_ping=True)
    if migrate:
        upgrade(engine)
    return engine


def aware(stamp: datetime) -> datetime:
    """Return `stamp` with UTC attached when the database gave it back naive (SQLite does)."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
