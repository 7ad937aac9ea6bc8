"""The loop keeps its session in memory between bars, and reads it back whenever the ledger says otherwise."""

from __future__ import annotations

import pytest

from tests.apps.trader.conftest import ledger, session_config
from tradeops.data import load_bars
from tradeops.store.database import open_engine
from tradeops.trader.broker import Account, Execution, Order, PaperBroker
from tradeops.trader.control import HALTED, TraderControl
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader

DATA = "sample:synthetic?symbols=2&bars=300"
PARAMS = {"fast": 5, "slow": 20}


class FailingBroker(PaperBroker):
    """A paper broker whose next execution raises: the bar's transaction rolls back mid-way."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.armed = False

    def execute(self, order: Order, account: Account, *, price: float, bar: int, max_size: float) -> Execution:
        if self.armed:
            self.armed = False
            raise ConnectionError("the venue hung up")
        return super().execute(order, account, price=price, bar=bar, max_size=max_size)


def uninterrupted(tmp_path, bars):
    engine = open_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    Trader(engine, session_config("s", "sma_cross", PARAMS, DATA, commission=0.001)).run(ReplayFeed(bars))
    return ledger(engine, "s")


@pytest.mark.req("DC-12", "DC-18")
def test_dc_12_dc_18_a_trader_whose_session_another_process_advanced_reads_it_back(tmp_path):
    bars = load_bars(DATA)
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    config = session_config("s", "sma_cross", PARAMS, DATA, commission=0.001)
    first, second = Trader(engine, config), Trader(engine, config)
    for t in range(120):
        first.step(bars, t)
    second.step(bars, 50)  # already done: skipped, and it learns where the session stands
    assert second.last_bar == 119
    for t in range(120, 200):  # the second process goes on: its memory comes from the ledger, not from bar -1
        second.step(bars, t)
    for t in range(200, bars.n_bars):  # and the first one, whose memory stopped at bar 119, reads it back too
        first.step(bars, t)
    assert ledger(engine, "s") == uninterrupted(tmp_path, bars)


@pytest.mark.req("DC-12", "DC-18")
def test_dc_12_dc_18_a_bar_that_fails_mid_way_leaves_neither_ledger_nor_memory_ahead(tmp_path):
    bars = load_bars(DATA)
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    config = session_config("s", "sma_cross", PARAMS, DATA, commission=0.001)
    broker = FailingBroker(config.execution)
    trader = Trader(engine, config, broker=broker)
    failures = 0
    for t in range(bars.n_bars):
        if t % 37 == 0:
            broker.armed = True
        try:
            trader.step(bars, t)
        except ConnectionError:
            failures += 1
            trader.step(bars, t)  # the retry reads the ledger back: the failed fill left nothing behind
    assert failures > 0
    assert ledger(engine, "s") == uninterrupted(tmp_path, bars)


@pytest.mark.req("DC-12", "DC-18")
def test_dc_12_dc_18_a_halt_between_bars_applies_from_the_next_bar_despite_the_memory(tmp_path):
    bars = load_bars(DATA)
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    trader = Trader(engine, session_config("s", "sma_cross", PARAMS, DATA, commission=0.001))
    for t in range(100):
        trader.step(bars, t)
    TraderControl(engine).set_state(HALTED, actor="test", reason="checking the loop reads the state", session_id="s")
    for t in range(100, bars.n_bars):
        trader.step(bars, t)
    orders = ledger(engine, "s")["orders"]
    after = [order for order in orders if order[3] >= 99]  # decided from the bar before the halt on
    assert after and all(status == "rejected" for _, _, _, _, status, *_ in after)
    assert TraderControl(engine).status("s").state == HALTED
