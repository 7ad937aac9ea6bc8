"""What a strategy declares it looks at, for reports to draw on its price chart.

A strategy may define `indicators(bars, params) -> list[Indicator]`: each series it computes its
signals from, for one parameter point, on the price panel (moving averages, channels) or on a panel
of its own with its reference levels (an RSI with its oversold and overbought bands)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeops.data.bars import Bars
from tradeops.strategies.base import Strategy, StrategyParams, table_from_points

PRICE = "price"  # drawn over the candles; any other panel name gets a panel of its own below them


@dataclass(frozen=True)
class Indicator:
    """One series per symbol, shape (bars, symbols), the panel it belongs on and its reference levels."""

    name: str
    values: np.ndarray
    panel: str = PRICE
    levels: tuple[float, ...] = ()


def declared_indicators(strategy: Strategy, bars: Bars, params: StrategyParams) -> list[Indicator]:
    """The strategy's indicators for `params` on `bars`; none when it declares none."""
    method = getattr(strategy, "indicators", None)
    return [] if method is None else list(method(bars, params))


def one_point(params: StrategyParams) -> dict[str, np.ndarray]:
    """`params` as the one-point table the indicator functions broadcast over."""
    return table_from_points([params])
