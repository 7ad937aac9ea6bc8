"""Trend following on two simple moving averages."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from tradeops.data.bars import Bars
from tradeops.strategies.base import ParamTable, Signals, StrategyParams
from tradeops.strategies.indicators import crossings, sma_per_window


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

    def lookback(self, params: StrategyParams) -> int:
        """The slow window and the bar before it (a cross compares two bars)."""
        assert isinstance(params, SmaCrossParams)
        return params.slow + 1

    def signals(self, bars: Bars, params: ParamTable) -> Signals:
        fast, fast_of = sma_per_window(bars.close, params["fast"])
        slow, slow_of = sma_per_window(bars.close, params["slow"])
        up, down = crossings(fast, fast_of, slow, slow_of)
        return Signals(entries=up, exits=down, short_entries=down, short_exits=up)
