"""The peers run side by side with tradeops: backtesting.py (always) and backtrader (if installed)."""

from __future__ import annotations

import importlib.util
import math
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import SMA


def backtesting_frame(bars, column: int = 0) -> pd.DataFrame:
    """Return one symbol of `bars` in backtesting.py's column layout."""
    return pd.DataFrame(
        {
            "Open": bars.open[:, column],
            "High": bars.high[:, column],
            "Low": bars.low[:, column],
            "Close": bars.close[:, column],
            "Volume": bars.volume[:, column],
        },
        index=bars.index,
    )


class PeerSmaCross(Strategy):
    """The SMA cross rule in backtesting.py (module level: `optimize` pickles it to worker processes)."""

    fast = 10
    slow = 20

    def init(self) -> None:
        self.fast_ma = self.I(SMA, self.data.Close, self.fast)
        self.slow_ma = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.fast_ma, self.slow_ma):
            if not self.position:
                self.buy()
        elif crossover(self.slow_ma, self.fast_ma):
            self.position.close()


def backtesting_run(frame: pd.DataFrame, fast: int, slow: int) -> float:
    """Run one backtest in backtesting.py; return final equity."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(frame, PeerSmaCross, cash=10_000, finalize_trades=False).run(fast=fast, slow=slow)
    return float(stats["Equity Final [$]"])


def backtesting_optimize(frame: pd.DataFrame, fast: list[int], slow: list[int]) -> int:
    """Run backtesting.py's `optimize` over the grid (fast < slow); return the points it ran."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = Backtest(frame, PeerSmaCross, cash=10_000, finalize_trades=False)
        _, heatmap = backtest.optimize(
            fast=fast,
            slow=slow,
            constraint=lambda p: p.fast < p.slow,
            maximize="Sharpe Ratio",
            return_heatmap=True,
            max_tries=None,
        )
    return len(heatmap)


def has_backtrader() -> bool:
    return importlib.util.find_spec("backtrader") is not None


def backtrader_run(frame: pd.DataFrame, fast: int, slow: int) -> float:
    """Run one backtest in backtrader (market orders fill at the next open); return final value."""
    import backtrader as bt

    class SmaCross(bt.Strategy):
        params = (("fast", 10), ("slow", 20))

        def __init__(self) -> None:
            self.cross = bt.ind.CrossOver(bt.ind.SMA(period=self.p.fast), bt.ind.SMA(period=self.p.slow))

        def next(self) -> None:
            if self.cross > 0 and not self.position:
                self.buy(size=math.floor(self.broker.getcash() / self.data.close[0]))
            elif self.cross < 0 and self.position:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(10_000)
    cerebro.broker.set_checksubmit(False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(SmaCross, fast=fast, slow=slow)
    cerebro.run()
    return float(cerebro.broker.getvalue())
