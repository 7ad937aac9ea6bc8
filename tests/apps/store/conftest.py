"""A results store on SQLite and on a real PostgreSQL server, and a run to put in it."""

from __future__ import annotations

import pytest

from tradeops.store import RunStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = RunStore(url)
    yield opened
    opened.close()


def create(store, kind="backtest", strategy="sma_cross", **extra):
    return store.create(
        kind=kind,
        strategy=strategy,
        params={"fast": 10, "slow": 20},
        request={"strategy": strategy, "params": {"fast": 10, "slow": 20}},
        data_ref="sample:GOOG",
        **extra,
    )
