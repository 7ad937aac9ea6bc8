"""Breakout of the Donchian channel (the turtle traders' rule)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from tradeops.data.bars import Bars
from tradeops.strategies.base import ParamTable, Signals, StrategyParams
from tradeops.strategies.display import Indicator, one_point
from tradeops.strategies.incremental import SignalRow, trailing_extreme
from tradeops.strategies.indicators import rolling_max, rolling_min, shift_forward


class DonchianBreakoutParams(StrategyParams):
    """Channel lengths in bars for entries and for exits."""

    entry_window: int = Field(
        20, ge=2, le=500, description="breakout channel, bars (e.g. 20)", json_schema_extra={"step": 2}
    )
    exit_window: int = Field(
        10, ge=2, le=500, description="exit channel, bars (e.g. 10)", json_schema_extra={"step": 1}
    )

    @model_validator(mode="after")
    def _exit_not_longer(self) -> DonchianBreakoutParams:
        if self.exit_window > self.entry_window:
            raise ValueError(f"exit_window ({self.exit_window}) must not exceed entry_window ({self.entry_window})")
        return self


class DonchianBreakout:
    """Buy a close above the previous `entry_window` bars' high; exit below the `exit_window` low."""

    name: ClassVar[str] = "donchian_breakout"
    description: ClassVar[str] = "channel breakout: trend following"
    Params: ClassVar[type[StrategyParams]] = DonchianBreakoutParams

    def lookback(self, params: StrategyParams) -> int:
        """The entry channel (the longer one) before the current bar, and the current bar."""
        assert isinstance(params, DonchianBreakoutParams)
        return params.entry_window + 1

    def warmup(self, params: StrategyParams) -> int:
        """The entry channel before the bar that breaks it."""
        assert isinstance(params, DonchianBreakoutParams)
        return params.entry_window + 1

    def incremental(self, params: StrategyParams) -> DonchianSteps:
        """The new bar's signals from the channels of the bars before it (no state)."""
        assert isinstance(params, DonchianBreakoutParams)
        return DonchianSteps(params)

    def indicators(self, bars: Bars, params: StrategyParams) -> list[Indicator]:
        """The entry channel (the previous bars' high and low) and the exit channel, on the price."""
        assert isinstance(params, DonchianBreakoutParams)
        table = one_point(params)
        entry, exit_ = table["entry_window"], table["exit_window"]
        return [
            Indicator(f"high {params.entry_window}", shift_forward(rolling_max(bars.high, entry))[:, :, 0]),
            Indicator(f"low {params.entry_window}", shift_forward(rolling_min(bars.low, entry))[:, :, 0]),
            Indicator(f"exit high {params.exit_window}", shift_forward(rolling_max(bars.high, exit_))[:, :, 0]),
            Indicator(f"exit low {params.exit_window}", shift_forward(rolling_min(bars.low, exit_))[:, :, 0]),
        ]

    def signals(self, bars: Bars, params: ParamTable) -> Signals:
        close = bars.close[:, :, None]
        entry_high = shift_forward(rolling_max(bars.high, params["entry_window"]))
        entry_low = shift_forward(rolling_min(bars.low, params["entry_window"]))
        exit_high = shift_forward(rolling_max(bars.high, params["exit_window"]))
        exit_low = shift_forward(rolling_min(bars.low, params["exit_window"]))
        with np.errstate(invalid="ignore"):
            return Signals(
                entries=close > entry_high,
                exits=close < exit_low,
                short_entries=close < entry_low,
                short_exits=close > exit_high,
            )


class DonchianSteps:
    """`DonchianBreakout.signals` at one bar: its close against the channels of the bars before it."""

    def __init__(self, params: DonchianBreakoutParams) -> None:
        self.entry_window, self.exit_window = params.entry_window, params.exit_window

    def at(self, bars: Bars, t: int) -> SignalRow:
        close = bars.close[t]
        entry_high = trailing_extreme(bars.high, t - 1, self.entry_window, highest=True)
        entry_low = trailing_extreme(bars.low, t - 1, self.entry_window, highest=False)
        exit_high = trailing_extreme(bars.high, t - 1, self.exit_window, highest=True)
        exit_low = trailing_extreme(bars.low, t - 1, self.exit_window, highest=False)
        with np.errstate(invalid="ignore"):
            return (
                (close > entry_high)[:, None],
                (close < exit_low)[:, None],
                (close < entry_low)[:, None],
                (close > exit_high)[:, None],
            )
