"""Plotly figures of a backtest; every series is computed on every bar and decimated only for display.

Figures are plain plotly JSON dicts (`{"data": [...], "layout": {...}}`): plotly.js draws them as they
are, and building them skips the graph objects' validation, which cost seconds per report."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from tradeops.reports import statistics

MAX_POINTS = 2000  # per trace on screen; a bucket keeps its lowest and highest value
COLOURS = ("#1f6feb", "#b42318", "#177245", "#8250df", "#bf8700", "#0a7c86")
Figure = dict[str, Any]
LAYOUT: dict[str, Any] = {
    "height": 320,
    "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
    "hovermode": "x unified",
    "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12},
}


def decimate(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """At most ~`max_points` points: in each bucket the first, the lowest and the highest, in time order.

    The minimum and maximum of every bucket survive, so the chart's extremes equal the data's; so do the edges
    of every run of NaN, so a line broken by a gap stays broken."""
    values = series.to_numpy(dtype="float64")
    n = len(values)
    if n <= max_points:
        return series
    size = -(-n // (max_points // 3))  # bucket length: ceil(n / buckets)
    buckets = -(-n // size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = values
    rows = padded.reshape(buckets, size)
    finite = np.isfinite(rows)
    starts = np.arange(buckets) * size
    lowest = starts + np.where(finite, rows, np.inf).argmin(axis=1)
    highest = starts + np.where(finite, rows, -np.inf).argmax(axis=1)
    has_values = finite.any(axis=1)
    missing = np.isnan(values)
    edges = np.flatnonzero(missing[1:] != missing[:-1])  # the last bar before a change and the first after it
    keep = np.concatenate([[0, n - 1], starts, lowest[has_values], highest[has_values], edges, edges + 1])
    return series.iloc[np.unique(keep)]


def times(values: Any) -> list[str]:
    """Times as plotly reads them, as short as they stay exact: dates alone when every time is a midnight
    (a daily chart's x values are half as long), else to the second, else in full."""
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    if (index.notna() & (index != index.normalize())).any():
        exact = (index.notna() & (index != index.floor("s"))).any()
        return [t.isoformat() for t in index] if exact else list(index.strftime("%Y-%m-%d %H:%M:%S"))
    return list(index.strftime("%Y-%m-%d"))


def _line(series: pd.Series, name: str, colour: str, **extra: Any) -> dict[str, Any]:
    shown = decimate(series)
    trace = {"type": "scatter", "x": times(shown.index), "y": shown.to_numpy(), "name": name, "mode": "lines"}
    return trace | {"line": {"color": colour, "width": 1.4} | extra.pop("line", {})} | extra


@cache
def _template() -> dict[str, Any]:
    from plotly.io import templates

    return dict(templates["plotly_white"].to_plotly_json())  # plotly.js knows no template names: send it


LINKED = {"link": "time"}  # layout.meta of the charts over time whose zoom follows each other (charts.html.j2)


def figure_of(title: str, traces: list[Any], **layout: Any) -> Figure:
    """A figure over time: its zoom is linked with the report's other charts over time."""
    spec = LAYOUT | {"title": {"text": title}, "template": _template(), "shapes": [], "annotations": []}
    return {"data": traces, "layout": spec | {"meta": LINKED} | layout}


def _figure(title: str, yaxis: str, traces: list[Any], *, xaxis: str | None = None, **layout: Any) -> Figure:
    axes = {"yaxis": {"title": {"text": yaxis}}, "xaxis": {"title": {"text": xaxis}} if xaxis else {}}
    spec = LAYOUT | {"title": {"text": title}, "template": _template(), "shapes": [], "annotations": []} | axes
    return {"data": traces, "layout": spec | layout}


def figure_plain(title: str, traces: list[Any], xaxis: str, yaxis: str) -> Figure:
    """A figure not over time (its own zoom), both axes titled."""
    return _figure(title, yaxis, traces, xaxis=xaxis, hovermode="closest")


def _scale(name: str) -> list[list[Any]]:
    from plotly.colors import get_colorscale

    return [list(stop) for stop in get_colorscale(name)]  # plotly.js knows only a few scales by name


def _vline(x: Any, colour: str, dash: str) -> dict[str, Any]:
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": colour, "dash": dash}}  # fmt: skip


def _note(x: Any, y: float, text: str, **extra: Any) -> dict[str, Any]:
    return {"x": x, "y": y, "yref": "paper", "text": text, "showarrow": False, "xanchor": "left"} | extra


def buy_and_hold_curve(
    close: np.ndarray, index: pd.DatetimeIndex, cash: float, lot: float = np.nan, minimum: float = np.nan
) -> pd.Series:
    """Equal-weight buy and hold of every symbol from the first close, in cash, in the strategy's units."""
    from tradeops.engine.metrics import held_curve

    return pd.Series(held_curve(close, cash=cash, lot=lot, minimum=minimum) * cash, index=index)


SCALE_BUTTONS = {
    "type": "buttons",
    "direction": "right",
    "x": 0.12,
    "xanchor": "left",
    "y": 1.14,
    "showactive": True,
    "buttons": [
        {"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
        {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]},
    ],
}


def _shade(x0: Any, x1: Any, colour: str) -> dict[str, Any]:
    return {"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
            "fillcolor": colour, "opacity": 0.5, "line": {"width": 0}, "layer": "below"}  # fmt: skip


def equity_figure(
    equity: pd.Series,
    benchmark: pd.Series | None,
    split: pd.Timestamp | None = None,
    title: str = "Equity",
    drawdowns: list[dict[str, Any]] | None = None,
) -> Figure:
    """Equity with the buy-and-hold overlay and a linear/log switch; a gate's out-of-sample split and the
    worst drawdown periods (peak to recovery) shaded."""
    traces = [_line(equity, "strategy", COLOURS[0])]
    if benchmark is not None:
        traces.append(_line(benchmark, "buy and hold", "#8c959f", line={"dash": "dot"}))
    figure = figure_of(title, traces, yaxis={"title": {"text": "equity"}, "type": "linear"})
    figure["layout"]["updatemenus"] = [SCALE_BUTTONS]
    layout = figure["layout"]
    for period in drawdowns or []:
        end = period["recovered"] if period["recovered"] is not None else equity.index[-1]
        layout["shapes"].append(_shade(period["peak"], end, "#ffd8d3") | {"name": "drawdown"})
    if split is not None:
        layout["shapes"] += [_shade(split, equity.index[-1], "#fff4d6") | {"name": "out of sample"}]
        layout["shapes"] += [_vline(split, "#bf8700", "dash")]
        layout["annotations"] += [_note(split, 1.02, "out of sample")]
    return figure


def folds_figure(equity: pd.Series, starts: list[pd.Timestamp], labels: list[str]) -> Figure:
    """A walk-forward's stitched out-of-sample equity with each fold's start and chosen parameters."""
    figure = _figure("Out-of-sample equity by fold", "equity", [_line(equity, "walk-forward", COLOURS[0])])
    for number, (start, label) in enumerate(zip(starts, labels, strict=True)):
        figure["layout"]["shapes"].append(_vline(start, "#8c959f", "dot"))
        figure["layout"]["annotations"].append(_note(start, 1.0 - 0.07 * (number % 3), label, font={"size": 10}))
    return figure


def underwater_figure(equity: pd.Series) -> Figure:
    under = statistics.drawdown_pct(equity)
    trace = _line(under, "drawdown %", COLOURS[1], fill="tozeroy")
    return figure_of("Underwater (drawdown from the running peak)", [trace], yaxis={"title": {"text": "percent"}})


def monthly_figure(table: pd.DataFrame) -> Figure:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    values = table.to_numpy()
    heat = dict(
        type="heatmap",
        z=values,
        x=months,
        y=[str(y) for y in table.index],
        colorscale=_scale("RdYlGn"),
        zmid=0,
        text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.1f}")(values),
        texttemplate="%{text}",
        hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
    )
    return _figure("Monthly returns (%)", "year", [heat], height=max(240, 28 * len(table) + 120), hovermode="closest")


def rolling_sharpe_figure(series: pd.Series, window: str) -> Figure:
    """Sharpe over a trailing time window; a NaN breaks the line (before the first full window, across gaps)."""
    trace = _line(series, f"{window} Sharpe", COLOURS[3], connectgaps=False)
    return figure_of(f"Rolling Sharpe ({window})", [trace], yaxis={"title": {"text": "Sharpe"}})


def yearly_figure(returns: pd.Series) -> Figure:
    """Percent return of each calendar year, as bars."""
    values = returns.to_numpy()
    bars = {
        "type": "bar",
        "x": [str(year) for year in returns.index],
        "y": values,
        "name": "year",
        "marker": {"color": np.where(values >= 0, COLOURS[2], COLOURS[1])},
        "text": [f"{v:.1f}%" for v in values],
        "hovertemplate": "%{x}: %{y:.2f}%<extra></extra>",
    }
    return _figure("Yearly returns (%)", "percent", [bars], hovermode="closest")


def distribution_figure(returns: np.ndarray) -> Figure:
    histogram = {"type": "histogram", "x": returns * 100, "nbinsx": 80, "name": "bar returns"}
    histogram["marker"] = {"color": COLOURS[0]}
    return _figure("Distribution of bar returns (%)", "bars", [histogram], hovermode="closest", bargap=0.02)


def heatmap_figure(table: pd.DataFrame, x: str, y: str, metric: str) -> Figure:
    """`metric` over two parameters; each cell shows the best value over the other parameters."""
    ascending = metric.startswith("max_drawdown")
    grid = table.groupby([y, x])[metric].agg("min" if ascending else "max").unstack(x)
    heat = dict(
        type="heatmap",
        z=grid.to_numpy(),
        x=[str(v) for v in grid.columns],
        y=[str(v) for v in grid.index],
        colorscale="Viridis",
        reversescale=ascending,
        colorbar={"title": {"text": metric}},
        hovertemplate=f"{x}=%{{x}} {y}=%{{y}}: %{{z:.4g}}<extra></extra>",
    )
    return _figure(f"{metric} over {x} and {y}", y, [heat], xaxis=x, height=480, hovermode="closest")


def overlay_figure(curves: dict[str, pd.Series]) -> Figure:
    """Several runs' equity curves on one chart."""
    traces = [_line(curve, name, COLOURS[i % len(COLOURS)]) for i, (name, curve) in enumerate(curves.items())]
    return _figure("Equity of the compared runs", "equity", traces)
