"""A run's bars share one connection, a transaction each, and a stale, disposed or failed one is given back."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.apps.trader.conftest import ledger, session_config
from tests.apps.trader.test_ledger import DATA, PARAMS, FailingBroker, uninterrupted
from tradeops.data import load_bars
from tradeops.store.database import open_engine
from tradeops.trader.connections import BarConnections
from tradeops.trader.control import HALTED, TraderControl
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    return (
        f"sqlite:///{tmp_path / 'db.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )


INSERT = text("INSERT INTO marks (n) VALUES (1)")


def counted(engine) -> int:
    with engine.connect() as other:  # what another connection sees: only what was committed
        return int(other.execute(text("SELECT count(*) FROM marks")).scalar_one())


@pytest.mark.req("DC-18")
def test_dc_18_held_bars_share_a_connection_and_each_commits_or_rolls_back_alone(url):
    engine = open_engine(url)
    clock = Clock()
    bars = BarConnections(engine, idle_seconds=1.0, clock=clock)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE marks (n INTEGER)"))
    used = []
    with bars.holding():
        for n in range(3):
            with bars.transaction() as connection:
                connection.execute(INSERT)
                used.append(connection)
            assert counted(engine) == n + 1  # committed when its block ended
            clock.now += 0.5
        assert used[0] is used[1] is used[2]
        with pytest.raises(ZeroDivisionError), bars.transaction() as connection:
            connection.execute(INSERT)
            raise ZeroDivisionError
        assert counted(engine) == 3  # rolled back
        with bars.transaction() as after_failure:
            assert after_failure is not connection  # a failed bar's connection was given back
        clock.now += 1.5
        with bars.transaction() as after_idle:
            assert after_idle is not after_failure  # idle too long: a fresh (pre-pinged) one
        engine.dispose()
        with bars.transaction() as after_dispose:
            assert after_dispose is not after_idle  # from the new pool
    assert engine.pool.checkedout() == 0  # given back when the run ended
    with bars.transaction() as first, bars.transaction() as second:
        assert first is not second  # outside a run each bar checks out its own
    engine.dispose()


@pytest.mark.req("DC-12", "DC-18")
def test_dc_12_dc_18_a_run_that_fails_or_loses_its_pool_mid_way_resumes_to_the_uninterrupted_ledger(url, tmp_path):
    bars = load_bars(DATA)
    engine = open_engine(url)
    config = session_config("s", "sma_cross", PARAMS, DATA, commission=0.001)
    broker = FailingBroker(config.execution)
    trader = Trader(engine, config, broker=broker)

    def after(t: int) -> None:
        broker.armed = broker.armed or t % 37 == 0  # the next fill raises: the run stops there
        if t % 50 == 0:
            engine.dispose()  # as the readiness check does when the SQLite file was replaced

    failures = 0
    while trader.last_bar < bars.n_bars - 1:
        try:
            trader.run(ReplayFeed(bars), on_bar=after)
        except ConnectionError:
            failures += 1  # as the service's loop thread does: run again, from the ledger
    assert failures > 2
    assert engine.pool.checkedout() == 0
    assert ledger(engine, "s") == uninterrupted(tmp_path, bars)


@pytest.mark.req("DC-12", "DC-18")
def test_dc_12_dc_18_a_halt_while_a_run_holds_its_connection_applies_from_the_next_bar(tmp_path):
    bars = load_bars(DATA)
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    control = TraderControl(engine)

    def after(t: int) -> None:
        if t == 99:  # between two bars of the run, through the kill switch's own connection
            control.set_state(HALTED, actor="test", reason="halting a running replay", session_id="s")

    Trader(engine, session_config("s", "sma_cross", PARAMS, DATA, commission=0.001)).run(ReplayFeed(bars), after)
    after_halt = [order for order in ledger(engine, "s")["orders"] if order[3] >= 99]
    assert after_halt and all(status == "rejected" for _, _, _, _, status, *_ in after_halt)
    assert control.status("s").state == HALTED
