"""Trend following on two simple moving averages."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from tradeops.data.bars import Bars
from tradeops.strategies.base import Crossover, ParamTable, Signals, StrategyParams
from tradeops.strategies.display import Indicator, one_point
from tradeops.strategies.incremental import RecursiveSteps, SignalRow
from tradeops.strategies.indicators import RollingMean, sma, sma_stack


class SmaCrossParams(StrategyParams):
    """Windows of the two moving averages, in bars."""

    fast: int = Field(
        10, ge=2, le=500, description="fast moving average window, bars (e.g. 10)", json_schema_extra={"step": 1}
    )
    slow: int = Field(
        20, ge=3, le=1000, description="slow moving average window, bars (e.g. 20)", json_schema_extra={"step": 2}
    )

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self


class SmaCross:
    """Long when the fast average crosses above the slow one; short (if allowed) on the cross below.

    A cross is strict on both bars (below, then above), as in backtesting.py's `crossover`.
    """

    name: ClassVar[str] = "sma_cross"
    description: ClassVar[str] = "moving-average crossover: trend following"
    Params: ClassVar[type[StrategyParams]] = SmaCrossParams

    def warmup(self, params: StrategyParams) -> int:
        """The slow average's window, then one more bar to see a cross."""
        assert isinstance(params, SmaCrossParams)
        return params.slow + 1

    def incremental(self, params: StrategyParams) -> SmaCrossSteps:
        """The new bar's signals, carrying both moving averages (see SmaCrossSteps)."""
        assert isinstance(params, SmaCrossParams)
        return SmaCrossSteps(params)

    def signals(self, bars: Bars, params: ParamTable) -> Signals:
        return self.crossover(bars, params).signals()

    def indicators(self, bars: Bars, params: StrategyParams) -> list[Indicator]:
        """Both moving averages, on the price."""
        assert isinstance(params, SmaCrossParams)
        table = one_point(params)
        return [
            Indicator(f"SMA {params.fast}", sma(bars.close, table["fast"])[:, :, 0]),
            Indicator(f"SMA {params.slow}", sma(bars.close, table["slow"])[:, :, 0]),
        ]

    def crossover(self, bars: Bars, params: ParamTable) -> Crossover:
        """Both averages of every point, each distinct window once, for the grid's kernel to cross in place."""
        series, window_of = sma_stack(bars.close, np.concatenate([params["fast"], params["slow"]]))
        n_points = len(params["fast"])
        return Crossover(series, window_of[:n_points], window_of[n_points:])


class SmaCrossSteps(RecursiveSteps):
    """`SmaCross.signals` one bar at a time: both averages carried as pandas computes them (a trailing
    window recomputed from scratch differs in the last bits, enough to flip a cross between equal prices)."""

    def __init__(self, params: SmaCrossParams) -> None:
        super().__init__()
        self.params = params
        self.reset(0)

    def reset(self, n_symbols: int) -> None:
        self.fast, self.slow = RollingMean(self.params.fast, n_symbols), RollingMean(self.params.slow, n_symbols)
        self.before = (np.full(n_symbols, np.nan), np.full(n_symbols, np.nan))  # both averages at the last bar

    def advance(self, bars: Bars, t: int) -> SignalRow:
        fast, slow = self.fast.update(bars.close, t), self.slow.update(bars.close, t)
        fast_before, slow_before = self.before
        self.before = (fast, slow)
        up = ((fast_before < slow_before) & (fast > slow))[:, None]  # strict on both bars; (symbols, 1 point)
        down = ((fast_before > slow_before) & (fast < slow))[:, None]
        return up, down, down, up
