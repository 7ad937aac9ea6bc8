"""The price chart of one symbol: candles and volume, the strategy's own indicators, and every trade.

Candles are merged into buckets for display past MAX_CANDLES (each bucket's open, highest high, lowest
low, last close and summed volume, so no extreme is lost); entries and exits are two series the legend
toggles, each thinned past MAX_MARKERS to the trade with the largest return of its bucket."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tradeops.data.bars import Bars
from tradeops.reports.charts import COLOURS, Figure, decimate, figure_of, times
from tradeops.strategies.display import PRICE, Indicator

MAX_CANDLES = 2500
MAX_MARKERS = 400  # per series
MAX_DECIMALS = 8


def price_decimals(values: np.ndarray) -> int:
    """The fewest decimals that write every price exactly (the instrument's tick precision as the data has it)."""
    finite = values[np.isfinite(values)]
    for decimals in range(MAX_DECIMALS + 1):
        if np.allclose(np.round(finite, decimals), finite, rtol=0, atol=10.0 ** -(decimals + 3)):
            return decimals
    return MAX_DECIMALS


def candles(bars: Bars, column: int, max_candles: int = MAX_CANDLES) -> pd.DataFrame:
    """One symbol's bars (open, high, low, close, volume by time), merged into buckets past `max_candles`."""
    frame = pd.DataFrame(
        {field: getattr(bars, field)[:, column] for field in ("open", "high", "low", "close", "volume")},
        index=bars.index,
    )
    if len(frame) <= max_candles:
        return frame
    size = -(-len(frame) // max_candles)
    bucket = np.arange(len(frame)) // size
    merged = frame.groupby(bucket).agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    merged.index = frame.index[np.unique(bucket, return_index=True)[1]]
    return merged


def thin_markers(frame: pd.DataFrame, time: str, max_markers: int = MAX_MARKERS) -> pd.DataFrame:
    """At most `max_markers` trades: in time order, from each bucket the one with the largest |return|."""
    if len(frame) <= max_markers:
        return frame
    ordered = frame.sort_values(time, kind="stable").reset_index(drop=True)
    bucket = np.arange(len(ordered)) * max_markers // len(ordered)
    keep = ordered["return_pct"].abs().fillna(0).groupby(bucket).idxmax()
    return ordered.loc[keep.to_numpy()]


def _panels(indicators: list[Indicator]) -> list[str]:
    return list(dict.fromkeys(i.panel for i in indicators if i.panel != PRICE))


def _layout_axes(lower: list[str]) -> dict[str, Any]:
    """Price on top, each indicator panel below it, volume at the bottom; one time axis for all."""
    volume_top, panel_height = 0.16, 0.2
    price_bottom = volume_top + 0.04 + len(lower) * (panel_height + 0.04)
    axes: dict[str, Any] = {
        "xaxis": {"rangeslider": {"visible": False}, "type": "date", "anchor": "y2"},
        "yaxis": {"domain": [price_bottom, 1], "title": {"text": "price"}},
        "yaxis2": {"domain": [0, volume_top], "title": {"text": "volume"}},
    }
    for number, name in enumerate(lower):
        bottom = volume_top + 0.04 + number * (panel_height + 0.04)
        axes[f"yaxis{number + 3}"] = {"domain": [bottom, bottom + panel_height], "title": {"text": name}}
    return axes


def _indicator_traces(indicators: list[Indicator], column: int, index: pd.DatetimeIndex, lower: list[str]) -> list:
    traces: list[dict[str, Any]] = []
    for number, indicator in enumerate(indicators):
        axis = "y" if indicator.panel == PRICE else f"y{lower.index(indicator.panel) + 3}"
        shown = decimate(pd.Series(indicator.values[:, column], index=index))
        colour = COLOURS[(number + 3) % len(COLOURS)]
        traces.append(
            {"type": "scatter", "mode": "lines", "x": times(shown.index), "y": shown.to_numpy(), "name": indicator.name,
             "yaxis": axis, "line": {"color": colour, "width": 1.2}}
        )  # fmt: skip
        for level in indicator.levels:
            traces.append(
                {"type": "scatter", "mode": "lines", "x": [index[0], index[-1]], "y": [level, level], "yaxis": axis,
                 "name": f"{indicator.name} {level:g}", "line": {"color": "#8c959f", "dash": "dot", "width": 1},
                 "hoverinfo": "skip", "showlegend": False}
            )  # fmt: skip
    return traces


def _trade_traces(mine: pd.DataFrame, decimals: int) -> list[dict[str, Any]]:
    entries = thin_markers(mine, "entry_time")
    every_exit = mine.dropna(subset=["exit_time"])
    closed = thin_markers(every_exit, "exit_time")
    price = f"%{{y:,.{decimals}f}}"
    return [
        {
            "type": "scatter", "mode": "markers", "name": f"entries ({len(entries)} of {len(mine)})",
            "x": times(entries["entry_time"]), "y": entries["entry_price"].to_numpy(),
            "marker": {"symbol": np.where(entries["size"] > 0, "triangle-up", "triangle-down"), "size": 9,
                       "color": COLOURS[2], "line": {"width": 0.5, "color": "#1d2430"}},
            "hovertemplate": f"entry {price}<extra></extra>", "meta": {"series": "entries", "total": len(mine)},
        },
        {
            "type": "scatter", "mode": "markers", "name": f"exits ({len(closed)} of {len(every_exit)})",
            "x": times(closed["exit_time"]), "y": closed["exit_price"].to_numpy(),
            "customdata": closed["return_pct"].to_numpy(),
            "marker": {"symbol": "x", "size": 8,
                       "color": np.where(closed["return_pct"] > 0, COLOURS[2], COLOURS[1])},
            "hovertemplate": f"exit {price}<br>return %{{customdata:.2f}}%<extra></extra>",
            "meta": {"series": "exits", "total": len(every_exit)},
        },
    ]  # fmt: skip


def price_figure(bars: Bars, column: int, trades: pd.DataFrame, indicators: list[Indicator], decimals: int) -> Figure:
    """Candles and volume of one symbol, the strategy's indicators on their panels, its entries and exits."""
    symbol = bars.symbols[column]
    shown = candles(bars, column)
    lower = _panels(indicators)
    traces: list[dict[str, Any]] = [
        {"type": "candlestick", "name": "price", "x": times(shown.index), "open": shown["open"].to_numpy(),
         "high": shown["high"].to_numpy(), "low": shown["low"].to_numpy(), "close": shown["close"].to_numpy(),
         "increasing": {"line": {"color": "#177245"}}, "decreasing": {"line": {"color": "#b42318"}}},
        {"type": "bar", "name": "volume", "x": times(shown.index), "y": shown["volume"].to_numpy(), "yaxis": "y2",
         "marker": {"color": "#afb8c1"}, "showlegend": False},
    ]  # fmt: skip
    traces += _indicator_traces(indicators, column, bars.index, lower)
    traces += _trade_traces(trades[trades["symbol"] == symbol], decimals)
    height = 520 + 140 * len(lower)
    title = f"{symbol}: price, volume and trades" + (
        f" ({len(shown)} candles of {bars.n_bars} bars)" if len(shown) < bars.n_bars else ""
    )
    return figure_of(title, traces, height=height, **_layout_axes(lower))
