"""Each trade's excursions and duration, and the charts of them.

MAE (maximum adverse excursion) and MFE (maximum favourable excursion) are the worst and the best a
trade stood between its entry and its exit (or the last bar while open), from the bars' lows and highs,
in percent of the entry price and in the trade's direction: MAE <= 0 <= MFE."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tradeops.data.bars import Bars
from tradeops.reports.charts import COLOURS, Figure, figure_plain


def excursions(trades: pd.DataFrame, bars: Bars) -> pd.DataFrame:
    """The trades with `mae_pct`, `mfe_pct` and `duration_days` (entry to exit, or to the last bar while open)."""
    index = bars.index
    first = index.get_indexer(pd.DatetimeIndex(trades["entry_time"]))
    exits = pd.DatetimeIndex(trades["exit_time"])
    last = np.where(exits.isna(), len(index) - 1, index.get_indexer(exits.fillna(index[-1])))
    columns = [bars.symbols.index(symbol) for symbol in trades["symbol"]]
    mae, mfe = np.full(len(trades), np.nan), np.full(len(trades), np.nan)
    for row, (start, stop, column) in enumerate(zip(first, last, columns, strict=True)):
        entry = float(trades["entry_price"].iloc[row])
        low = float(bars.low[start : stop + 1, column].min()) / entry - 1
        high = float(bars.high[start : stop + 1, column].max()) / entry - 1
        long = trades["size"].iloc[row] > 0
        mae[row], mfe[row] = (min(low, 0.0), max(high, 0.0)) if long else (min(-high, 0.0), max(-low, 0.0))
    held = (index[last] - pd.DatetimeIndex(trades["entry_time"])).total_seconds() / 86400
    return trades.assign(mae_pct=mae * 100, mfe_pct=mfe * 100, duration_days=np.asarray(held, dtype="float64"))


def _by_outcome(frame: pd.DataFrame, x: str, y: str, hover: str) -> list[dict[str, Any]]:
    traces = []
    for name, chosen, colour in (("winning", frame["pnl"] > 0, COLOURS[2]), ("losing", frame["pnl"] <= 0, COLOURS[1])):
        part = frame[chosen]
        traces.append(
            {"type": "scatter", "mode": "markers", "name": f"{name} ({len(part)})", "x": part[x].to_numpy(),
             "y": part[y].to_numpy(), "customdata": part["pnl"].to_numpy(),
             "marker": {"color": colour, "size": 6, "opacity": 0.7}, "hovertemplate": hover + "<extra></extra>"}
        )  # fmt: skip
    return traces


def pnl_duration_figure(closed: pd.DataFrame) -> Figure:
    """Each closed trade's return against how long it was held."""
    hover = "held %{x:.1f} days<br>return %{y:.2f}%<br>pnl %{customdata:,.2f}"
    traces = _by_outcome(closed, "duration_days", "return_pct", hover)
    return figure_plain("Trade return by duration", traces, "days held", "return %")


def excursion_figure(closed: pd.DataFrame) -> Figure:
    """Each closed trade's worst (MAE) against its best (MFE) point, coloured by how it ended."""
    hover = "MAE %{x:.2f}%<br>MFE %{y:.2f}%<br>pnl %{customdata:,.2f}"
    traces = _by_outcome(closed, "mae_pct", "mfe_pct", hover)
    return figure_plain("MAE / MFE per trade (% of entry price)", traces, "MAE %", "MFE %")
