"""Prepared statements write and read what `Connection.execute` does, in its transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from tradeops.store.database import open_engine
from tradeops.store.prepared import Prepared
from tradeops.trader.ledger import EQUITY, SESSIONS

pytestmark = pytest.mark.req("DC-18")

STAMP = datetime(2024, 3, 1, 14, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'db.sqlite'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = open_engine(url)
    yield opened
    opened.dispose()


def session_row(session_id: str) -> dict:
    return {
        "id": session_id,
        "strategy": "sma_cross",
        "params": {"fast": 10},
        "data_ref": "sample:GOOG",
        "symbols": ["GOOG"],
        "execution": {},
        "risk": {},
        "state": "running",
        "state_reason": None,
        "status": "active",
        "last_bar": -1,
        "last_time": None,
        "data_fingerprint": None,
        "peak_equity": 10_000.0,
        "day": None,
        "day_start_equity": 10_000.0,
        "created_at": STAMP,
        "updated_at": STAMP,
    }


def test_dc_18_prepared_statements_store_what_core_stores(engine):
    """Datetimes, JSON, NULLs and floats come back through the ORM's types exactly as Core's own writes."""
    columns = tuple(session_row("x"))
    prepared = Prepared(insert(SESSIONS), engine.dialect, columns)
    with engine.begin() as connection:
        connection.execute(insert(SESSIONS), session_row("core"))
        prepared.execute(connection, session_row("prepared") | {"symbols": ["A", "B"], "last_time": STAMP})
        prepared.executemany(connection, [session_row("many-1"), session_row("many-2")])
    with engine.connect() as connection:
        rows = {row.id: row._asdict() for row in connection.execute(select(SESSIONS))}
    assert set(rows) == {"core", "prepared", "many-1", "many-2"}
    assert rows["many-1"] | {"id": "core"} == rows["core"]
    assert rows["prepared"]["symbols"] == ["A", "B"] and rows["prepared"]["params"] == {"fast": 10}
    assert rows["prepared"]["last_time"].replace(tzinfo=UTC) == STAMP  # SQLite gives it back naive
    assert rows["prepared"]["peak_equity"] == 10_000.0 and rows["prepared"]["state_reason"] is None


def test_dc_18_a_prepared_update_returns_its_row_and_runs_in_the_connections_transaction(engine):
    lock = Prepared(
        update(SESSIONS)
        .where(SESSIONS.c.id == bindparam("key"))
        .values(last_bar=SESSIONS.c.last_bar + bindparam("step"))
        .returning(SESSIONS.c.last_bar, SESSIONS.c.state, SESSIONS.c.peak_equity, SESSIONS.c.updated_at),
        engine.dialect,
    )
    with engine.begin() as connection:
        connection.execute(insert(SESSIONS), session_row("s"))
    with engine.connect() as connection, connection.begin() as transaction:
        row = lock.first(connection, {"key": "s", "step": 1})
        assert row is not None and row[:3] == (0, "running", 10_000.0)
        assert row[3].replace(tzinfo=UTC) == STAMP  # the type's result processor: a datetime, not a string
        assert lock.first(connection, {"key": "missing", "step": 1}) is None
        transaction.rollback()
    assert last_bar(engine) == -1  # rolled back with the connection's transaction
    with engine.begin() as connection:
        lock.first(connection, {"key": "s", "step": 1})
    assert last_bar(engine) == 0  # committed with it


def last_bar(engine):
    with engine.connect() as connection:
        return connection.execute(select(SESSIONS.c.last_bar)).scalar_one()


def test_dc_18_a_driver_error_is_raised_as_sqlalchemys(engine):
    equity = Prepared(insert(EQUITY), engine.dialect, [column.key for column in EQUITY.c])
    point = {"session_id": "s", "bar": 0, "time": STAMP, "equity": 1.0, "exposure": 0.0, "drawdown_pct": 0.0}
    with engine.begin() as connection:
        connection.execute(insert(SESSIONS), session_row("s"))
        equity.execute(connection, point)
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        equity.execute(connection, point)  # the same (session, bar) again
    assert raised.value.statement == equity.sql


def test_dc_18_a_value_bound_in_the_statement_is_refused(engine):
    with pytest.raises(ValueError, match="bind every value by name"):
        Prepared(select(SESSIONS).where(SESSIONS.c.id == "fixed"), engine.dialect)
