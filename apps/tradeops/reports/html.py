"""Render one backtest (and its gate checks) as a single self-contained HTML file: plotly inlined, no CDN."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from tradeops import __version__
from tradeops.engine import sizing
from tradeops.engine.backtest import BacktestResult
from tradeops.gate.verdict import Verdict
from tradeops.reports.definitions import DEFINITIONS

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("tradeops.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
)


def fmt(value: object) -> str:
    """A number as tables show it: n/a when undefined, 4 significant digits, thousands separated."""
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.2f}"
    return "n/a" if value is None else str(value)


def split_time(result: BacktestResult, fraction: float | None) -> pd.Timestamp | None:
    """The bar where the gate's out-of-sample part starts (the same cut as its check)."""
    if fraction is None:
        return None
    return result.bars.index[int(len(result.equity) * fraction)]


def _oos_fraction(verdict: Verdict | None) -> float | None:
    if verdict is None:
        return None
    safety = (verdict.candidate.get("thresholds") or {}).get("safety") or {}
    return safety.get("oos_train_fraction") if safety.get("min_oos_sharpe_ratio") is not None else None


def _rows(frame: pd.DataFrame, decimals: dict[str, int]) -> list[dict[Any, Any]]:
    """Trades as table rows; prices written at their instrument's precision."""

    def price(column: str) -> pd.Series:
        return pd.Series(
            [
                "" if pd.isna(p) else f"{p:,.{decimals[s]}f}"
                for s, p in zip(frame["symbol"], frame[column], strict=True)
            ],
            index=frame.index,
            dtype=object,
        )

    return frame.assign(
        entry_time=frame["entry_time"].map(lambda t: pd.Timestamp(t).isoformat()),
        exit_time=frame["exit_time"].map(lambda t: "" if pd.isna(t) else pd.Timestamp(t).isoformat()),
        entry_price_text=price("entry_price"),
        exit_price_text=price("exit_price"),
    ).to_dict("records")


def price_precision(result: BacktestResult) -> dict[str, int]:
    """Decimals of each symbol's prices, as its data writes them."""
    from tradeops.reports.price import price_decimals

    bars = result.bars
    return {
        symbol: price_decimals(np.concatenate([bars.open[:, c], bars.high[:, c], bars.low[:, c], bars.close[:, c]]))
        for c, symbol in enumerate(bars.symbols)
    }


def backtest_figures(
    result: BacktestResult, split: pd.Timestamp | None, decimals: dict[str, int] | None = None
) -> dict[str, Any]:
    """Every chart of a backtest report, by name."""
    from tradeops.reports import charts, price, statistics, trades
    from tradeops.strategies import STRATEGIES
    from tradeops.strategies.base import validate_params
    from tradeops.strategies.display import declared_indicators

    bars, equity = result.bars, result.equity
    decimals = decimals or price_precision(result)
    settings = result.settings
    benchmark = charts.buy_and_hold_curve(
        bars.close, bars.index, settings.cash, sizing.lot_code(settings.lot_size), sizing.lot_code(settings.min_size)
    )
    worst = statistics.worst_drawdowns(equity)
    figures: dict[str, Any] = {
        "equity": charts.equity_figure(equity, benchmark, split, drawdowns=worst),
        "underwater": charts.underwater_figure(equity),
    }
    strategy = STRATEGIES.get(result.strategy)
    indicators = (
        [] if strategy is None else declared_indicators(strategy, bars, validate_params(strategy, result.params))
    )
    every = pd.concat([result.trades, result.open_trades])
    for column, symbol in enumerate(bars.symbols):
        figures[f"price-{column}"] = price.price_figure(bars, column, every, indicators, decimals[symbol])
    closed = trades.excursions(result.trades, bars)
    figures["pnl-duration"] = trades.pnl_duration_figure(closed)
    figures["excursions"] = trades.excursion_figure(closed)
    figures["yearly"] = charts.yearly_figure(statistics.yearly_returns(equity))
    figures["monthly"] = charts.monthly_figure(statistics.monthly_returns(equity))
    rolling = statistics.rolling_sharpe(equity, bars.bars_per_year())
    label = statistics.window_label(statistics.ROLLING_WINDOW)
    figures["rolling"] = charts.rolling_sharpe_figure(statistics.break_at_gaps(rolling), label)
    figures["distribution"] = charts.distribution_figure(statistics.bar_returns(equity))
    return figures


def render(
    result: BacktestResult,
    verdict: Verdict | None = None,
    *,
    oos_train_fraction: float | None = None,
    plotly_src: str | None = None,
) -> str:
    """Return the report as an HTML string; with a verdict, its checks and the out-of-sample split.

    plotly.js is inlined (a self-contained file, for offline use) unless `plotly_src` names the URL it loads from.
    """
    from tradeops.reports import statistics
    from tradeops.reports.embed import PLOT_CONFIG, charts, plotly_js
    from tradeops.reports.trades import excursions

    fraction = oos_train_fraction if oos_train_fraction is not None else _oos_fraction(verdict)
    extra = statistics.extra_metrics(result.equity, result.trades, result.bars.bars_per_year())
    decimals = price_precision(result)
    return ENV.get_template("report.html.j2").render(
        result=result,
        verdict=verdict,
        fmt=fmt,
        metrics=result.metrics | extra,
        definitions=DEFINITIONS,
        charts=charts(backtest_figures(result, split_time(result, fraction), decimals)),
        drawdowns=statistics.worst_drawdowns(result.equity),
        symbols=statistics.per_symbol(result.trades, result.bars.symbols, result.bars.close),
        trades=_rows(excursions(result.trades, result.bars), decimals),
        open_trades=_rows(result.open_trades, decimals),
        start=result.bars.index[0].isoformat(),
        end=result.bars.index[-1].isoformat(),
        fingerprint=result.bars.fingerprint(),
        plotly_js=plotly_js() if plotly_src is None else "",
        plotly_src=plotly_src,
        plot_config=PLOT_CONFIG,
        version=__version__,
        data=result.bars.provenance(),
        units=sizing.describe(result.settings),
        skipped=sizing.skipped_warning(result.metrics.get("skipped_entries", 0.0), result.bars, result.settings),
    )


def write_html(path: Path, page: str) -> Path:
    """Write a page atomically (temp file, then rename) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path


def write_report(path: Path, result: BacktestResult, verdict: Verdict | None = None) -> Path:
    """Write the backtest (or gate) report and return its path."""
    return write_html(path, render(result, verdict))
