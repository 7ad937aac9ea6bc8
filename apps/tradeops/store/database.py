"""One way to open the database every store shares: SQLite locally, PostgreSQL in the cluster.

Every connection has deadlines: connecting (libpq `connect_timeout`, the pool's wait for a free connection)
and every statement, lock waits included (PostgreSQL `statement_timeout` and `lock_timeout`; SQLite's busy
timeout), so a locked table or a database that stopped answering fails a call instead of hanging it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from tradeops.store.migrate import upgrade

if TYPE_CHECKING:
    from tradeops.settings import AppSettings


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long connecting, and one statement, may take (seconds)."""

    connect_seconds: float = 5.0
    statement_seconds: float = 15.0

    @classmethod
    def of(cls, settings: AppSettings) -> DatabaseTimeouts:
        return cls(settings.database_connect_timeout_seconds, settings.database_statement_timeout_seconds)


def open_engine(
    database_url: str,
    *,
    migrate: bool = True,
    timeouts: DatabaseTimeouts | None = None,
    application: str | None = None,
) -> Engine:
    """Return an engine for `database_url`, its schema brought to the newest revision unless told not to.

    A service names itself (`application`, e.g. tradeops-backtester): PostgreSQL shows it in
    pg_stat_activity, and a restore refuses while such sessions are connected."""
    timeouts = timeouts or DatabaseTimeouts()
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    json_codec = {"json_serializer": json_text, "json_deserializer": json_value}
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": timeouts.statement_seconds},
            **json_codec,
        )
        if database_url.split("///", 1)[-1] not in ("", ":memory:"):
            event.listen(engine, "connect", _sqlite_wal)
            event.listen(engine, "connect", _remember_file)
    else:
        milliseconds = round(timeouts.statement_seconds * 1000)
        engine = create_engine(
            database_url,
            **json_codec,
            pool_pre_ping=True,
            pool_timeout=timeouts.connect_seconds,
            connect_args={
                "connect_timeout": max(2, math.ceil(timeouts.connect_seconds)),  # libpq's minimum is 2 s
                "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}",
                **({"application_name": application} if application else {}),
            },
        )
    if migrate:
        upgrade(engine)
    return engine


def json_text(value: Any) -> str:
    """A JSON column's text, in one orjson call: a backtest's result (equity curve, trades) was most of the API
    runner's CPU through `json.dumps`. NaN and infinities become null (PostgreSQL refuses them in JSON, and the
    API could not answer with them either)."""
    import orjson

    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def json_value(text: str | bytes) -> Any:
    """A JSON column's value; text written before `json_text` (json.dumps: NaN as a bare word) still parses."""
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def check_writable(engine: Engine, table: str, *, within_seconds: float = 2.0) -> None:
    """Raise unless the database takes a write now: one that changes nothing, rolled back.

    Catches what a `SELECT 1` misses: a SQLite file replaced or made read-only under the process ("attempt
    to write a readonly database"; SQLite needs a real page write to notice, so the header's user_version is
    rewritten with its own value), a PostgreSQL `table` locked by another session, a read-only replica.
    """
    with engine.connect() as connection, connection.begin() as transaction:
        if engine.dialect.name == "sqlite":
            _same_file(engine, connection.connection.info)
            version = int(connection.execute(text("PRAGMA user_version")).scalar_one())
            connection.execute(text(f"PRAGMA user_version = {version}"))
        else:
            connection.execute(text(f"SET LOCAL lock_timeout = {max(1, round(within_seconds * 1000))}"))
            connection.execute(text(f"UPDATE {table} SET id = id WHERE false"))  # noqa: S608 - a constant name
        transaction.rollback()


def aware(stamp: datetime) -> datetime:
    """Return `stamp` with UTC attached when the database gave it back naive (SQLite does)."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _remember_file(connection: Any, record: Any) -> None:
    """Note which file (device, inode) a SQLite connection opened, so a file replaced under it is seen."""
    path = connection.execute("PRAGMA database_list").fetchone()[2]
    if path:
        stat = os.stat(path)
        record.info["sqlite_file"] = (path, stat.st_dev, stat.st_ino)


def _same_file(engine: Engine, info: dict[str, Any]) -> None:
    """Raise when the SQLite file at the path is not the one this process writes (restored or moved under it)."""
    if "sqlite_file" not in info:
        return
    path, device, inode = info["sqlite_file"]
    try:
        stat = os.stat(path)
    except OSError as error:
        raise OSError(f"database file {path} is gone ({error.strerror}): restart the service") from None
    if (stat.st_dev, stat.st_ino) != (device, inode):
        engine.dispose()  # the next connection opens the file now at the path; this check still fails once
        raise OSError(f"database file {path} was replaced under this process (a restore?): restart the service")


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
