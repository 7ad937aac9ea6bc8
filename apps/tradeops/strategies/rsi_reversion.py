"""Mean reversion on the relative strength index."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from tradeops.data.bars import Bars
from tradeops.strategies.base import ParamTable, Signals, StrategyParams
from tradeops.strategies.display import Indicator, one_point
from tradeops.strategies.incremental import RecursiveSteps, SignalRow
from tradeops.strategies.indicators import WilderRsi, rsi


class RsiReversionParams(StrategyParams):
    """RSI window in bars and the oversold / overbought levels (0-100)."""

    window: int = Field(
        14, ge=2, le=100, description="RSI smoothing window, bars (e.g. 14)", json_schema_extra={"step": 1}
    )
    lower: float = Field(
        30.0, gt=0, lt=100, description="oversold level: buy below it (e.g. 30)", json_schema_extra={"step": 2.5}
    )
    upper: float = Field(
        70.0, gt=0, lt=100, description="overbought level: sell above it (e.g. 70)", json_schema_extra={"step": 2.5}
    )

    @model_validator(mode="after")
    def _lower_below_upper(self) -> RsiReversionParams:
        if self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower}) must be less than upper ({self.upper})")
        return self


class RsiReversion:
    """Buy when RSI is below `lower`, sell when it is above `upper`; shorts mirror that."""

    name: ClassVar[str] = "rsi_reversion"
    description: ClassVar[str] = "RSI oversold/overbought: mean reversion"
    Params: ClassVar[type[StrategyParams]] = RsiReversionParams

    def signals(self, bars: Bars, params: ParamTable) -> Signals:
        values = rsi(bars.close, params["window"])
        lower = np.asarray(params["lower"], dtype="float64")
        upper = np.asarray(params["upper"], dtype="float64")
        with np.errstate(invalid="ignore"):
            oversold = values < lower
            overbought = values > upper
        return Signals(entries=oversold, exits=overbought, short_entries=overbought, short_exits=oversold)

    def warmup(self, params: StrategyParams) -> int:
        """The RSI's window of changes (one bar more than the window), before it can cross a level."""
        assert isinstance(params, RsiReversionParams)
        return params.window + 1

    def indicators(self, bars: Bars, params: StrategyParams) -> list[Indicator]:
        """The RSI on a panel of its own, with the oversold and overbought bands."""
        assert isinstance(params, RsiReversionParams)
        values = rsi(bars.close, one_point(params)["window"])[:, :, 0]
        return [Indicator(f"RSI {params.window}", values, panel="RSI", levels=(params.lower, params.upper))]

    def incremental(self, params: StrategyParams) -> RsiSteps:
        """The signals bar by bar, carrying Wilder's smoothed gain and loss (no window would be exact)."""
        assert isinstance(params, RsiReversionParams)
        return RsiSteps(params)


class RsiSteps(RecursiveSteps):
    """`RsiReversion.signals` for one parameter point, one bar at a time."""

    def __init__(self, params: RsiReversionParams) -> None:
        super().__init__()
        self.params = params
        self.rsi = WilderRsi(params.window, 0)

    def reset(self, n_symbols: int) -> None:
        self.rsi = WilderRsi(self.params.window, n_symbols)

    def advance(self, bars: Bars, t: int) -> SignalRow:
        values = self.rsi.update(bars.close[t])[:, None]  # (symbols, 1 point)
        with np.errstate(invalid="ignore"):
            oversold = values < np.float64(self.params.lower)
            overbought = values > np.float64(self.params.upper)
        return oversold, overbought, overbought, oversold
