"""Plotly figures of a backtest; every series is computed on every bar and decimated only for display."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tradeops.reports import statistics

MAX_POINTS = 2000  # per trace on screen; a bucket keeps its lowest and highest value
COLOURS = ("#1f6feb", "#b42318", "#177245", "#8250df", "#bf8700", "#0a7c86")
LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 320,
    "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
    "hovermode": "x unified",
    "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12},
}


def decimate(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """At most ~`max_points` points: in each bucket the first, the lowest and the highest, in time order.

    The minimum and maximum of every bucket survive, so the chart's extremes equal the data's."""
    values = series.to_numpy(dtype="float64")
    n = len(values)
    if n <= max_points:
        return series
    edges = np.linspace(0, n, max_points // 3 + 1, dtype=np.int64)
    keep = {0, n - 1}
    for start, stop in itertools.pairwise(edges):
        if stop <= start:
            continue
        bucket = values[start:stop]
        finite = np.isfinite(bucket)
        keep.add(int(start))
        if finite.any():
            keep.add(int(start + np.nanargmin(bucket)))
            keep.add(int(start + np.nanargmax(bucket)))
    return series.iloc[sorted(keep)]


def _line(series: pd.Series, name: str, colour: str, **extra: Any) -> go.Scatter:
    shown = decimate(series)
    return go.Scatter(
        x=shown.index, y=shown.to_numpy(), name=name, mode="lines", line={"color": colour, "width": 1.4}, **extra
    )


def _figure(title: str, yaxis: str, traces: list[Any], **layout: Any) -> go.Figure:
    figure = go.Figure(traces)
    figure.update_layout(title=title, yaxis_title=yaxis, **(LAYOUT | layout))
    return figure


def buy_and_hold_curve(close: np.ndarray, index: pd.DatetimeIndex, cash: float) -> pd.Series:
    """Equal-weight buy and hold of every symbol from the first close, in cash."""
    return pd.Series((close / close[0]).mean(axis=1) * cash, index=index)


def equity_figure(
    equity: pd.Series, benchmark: pd.Series | None, split: pd.Timestamp | None = None, title: str = "Equity"
) -> go.Figure:
    """Equity with the buy-and-hold overlay; a gate's in-/out-of-sample split as a shaded region."""
    traces = [_line(equity, "strategy", COLOURS[0])]
    if benchmark is not None:
        traces.append(_line(benchmark, "buy and hold", "#8c959f", line_dash="dot"))
    figure = _figure(title, "equity", traces)
    if split is not None:
        figure.add_vrect(x0=split, x1=equity.index[-1], fillcolor="#fff4d6", opacity=0.5, line_width=0, layer="below")
        figure.add_vline(x=split, line_dash="dash", line_color="#bf8700")
        figure.add_annotation(x=split, y=1.02, yref="paper", text="out of sample", showarrow=False, xanchor="left")
    return figure


def folds_figure(equity: pd.Series, starts: list[pd.Timestamp], labels: list[str]) -> go.Figure:
    """A walk-forward's stitched out-of-sample equity with each fold's start and chosen parameters."""
    figure = _figure("Out-of-sample equity by fold", "equity", [_line(equity, "walk-forward", COLOURS[0])])
    for number, (start, label) in enumerate(zip(starts, labels, strict=True)):
        figure.add_vline(x=start, line_dash="dot", line_color="#8c959f")
        figure.add_annotation(
            x=start,
            y=1.0 - 0.07 * (number % 3),
            yref="paper",
            text=label,
            showarrow=False,
            xanchor="left",
            font={"size": 10},
        )
    return figure


def underwater_figure(equity: pd.Series) -> go.Figure:
    under = statistics.drawdown_pct(equity)
    trace = _line(under, "drawdown %", COLOURS[1], fill="tozeroy")
    return _figure("Underwater (drawdown from the running peak)", "percent", [trace])


def price_figure(close: pd.Series, trades: pd.DataFrame, symbol: str) -> go.Figure:
    """One symbol's close with every entry (triangle up) and exit (triangle down) of its trades."""
    mine = trades[trades["symbol"] == symbol]
    traces: list[Any] = [_line(close, "close", "#57606a")]
    entries = go.Scatter(
        x=mine["entry_time"],
        y=mine["entry_price"],
        mode="markers",
        name="entry",
        marker={"symbol": "triangle-up", "size": 9, "color": COLOURS[2]},
    )
    closed = mine.dropna(subset=["exit_time"])
    exits = go.Scatter(
        x=closed["exit_time"],
        y=closed["exit_price"],
        mode="markers",
        name="exit",
        marker={"symbol": "triangle-down", "size": 9, "color": COLOURS[1]},
        customdata=closed["return_pct"].to_numpy(),
        hovertemplate="exit %{y:.4g}<br>return %{customdata:.2f}%",
    )
    return _figure(f"{symbol}: price and trades", "price", [*traces, entries, exits])


def monthly_figure(table: pd.DataFrame) -> go.Figure:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    values = table.to_numpy()
    heat = go.Heatmap(
        z=values,
        x=months,
        y=[str(y) for y in table.index],
        colorscale="RdYlGn",
        zmid=0,
        text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.1f}")(values),
        texttemplate="%{text}",
        hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
    )
    return _figure("Monthly returns (%)", "year", [heat], height=max(240, 28 * len(table) + 120), hovermode="closest")


def rolling_sharpe_figure(series: pd.Series, window: int) -> go.Figure:
    trace = _line(series.dropna(), f"{window}-bar Sharpe", COLOURS[3])
    return _figure(f"Rolling Sharpe ({window} bars)", "Sharpe", [trace])


def distribution_figure(returns: np.ndarray) -> go.Figure:
    histogram = go.Histogram(x=returns * 100, nbinsx=80, name="bar returns", marker={"color": COLOURS[0]})
    return _figure("Distribution of bar returns (%)", "bars", [histogram], hovermode="closest", bargap=0.02)


def heatmap_figure(table: pd.DataFrame, x: str, y: str, metric: str) -> go.Figure:
    """`metric` over two parameters; each cell shows the best value over the other parameters."""
    ascending = metric.startswith("max_drawdown")
    grid = table.groupby([y, x])[metric].agg("min" if ascending else "max").unstack(x)
    heat = go.Heatmap(
        z=grid.to_numpy(),
        x=[str(v) for v in grid.columns],
        y=[str(v) for v in grid.index],
        colorscale="Viridis",
        reversescale=ascending,
        colorbar={"title": metric},
        hovertemplate=f"{x}=%{{x}} {y}=%{{y}}: %{{z:.4g}}<extra></extra>",
    )
    return _figure(f"{metric} over {x} and {y}", y, [heat], xaxis_title=x, height=480, hovermode="closest")


def overlay_figure(curves: dict[str, pd.Series]) -> go.Figure:
    """Several runs' equity curves on one chart."""
    traces = [_line(curve, name, COLOURS[i % len(COLOURS)]) for i, (name, curve) in enumerate(curves.items())]
    return _figure("Equity of the compared runs", "equity", traces)
