"""Parity with backtesting.py, run side by side on the real bars it ships."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import EURUSD, GOOG, SMA

from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params


class PeerSmaCross(Strategy):
    """The same rule written for backtesting.py: buy on the cross up, close on the cross down."""

    fast = 10
    slow = 20

    def init(self):
        self.fast_ma = self.I(SMA, self.data.Close, self.fast)
        self.slow_ma = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        if crossover(self.fast_ma, self.slow_ma):
            if not self.position:
                self.buy()
        elif crossover(self.slow_ma, self.fast_ma):
            self.position.close()


def peer_run(frame: pd.DataFrame, fast: int, slow: int, commission: float) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = Backtest(frame, PeerSmaCross, cash=10_000, commission=commission, finalize_trades=False)
        return backtest.run(fast=fast, slow=slow)


@pytest.mark.req("DC-8")
@pytest.mark.parametrize("sample", ["GOOG", "EURUSD"])
@pytest.mark.parametrize(("fast", "slow"), [(10, 20), (5, 50), (20, 100)])
@pytest.mark.parametrize("commission", [0.0, 0.002])
def test_dc_8_trades_and_final_equity_match_backtesting_py(sample, fast, slow, commission, goog, eurusd):
    bars = goog if sample == "GOOG" else eurusd
    peer = peer_run(GOOG if sample == "GOOG" else EURUSD, fast, slow, commission)
    strategy = get_strategy("sma_cross")
    ours = run_backtest(
        strategy,
        validate_params(strategy, {"fast": fast, "slow": slow}),
        bars,
        ExecutionSettings(commission=commission),
    )
    assert ours.metrics["trades"] == peer["# Trades"]
    assert ours.equity.iloc[-1] == pytest.approx(peer["Equity Final [$]"], rel=1e-12, abs=1e-9)
    peer_trades = peer["_trades"]
    assert list(ours.trades["entry_time"]) == list(peer_trades["EntryTime"][: len(ours.trades)])
    assert list(ours.trades["exit_time"]) == list(peer_trades["ExitTime"][: len(ours.trades)])
    assert ours.trades["pnl"].to_numpy() == pytest.approx(peer_trades["PnL"][: len(ours.trades)].to_numpy(), abs=1e-6)
    assert ours.metrics["max_drawdown_pct"] == pytest.approx(-peer["Max. Drawdown [%]"], rel=1e-9)
