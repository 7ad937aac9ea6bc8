"""Mean reversion on the relative strength index."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from tradeops.data.bars import Bars
from tradeops.strategies.base import ParamTable, Signals, StrategyParams
from tradeops.strategies.indicators import rsi


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
