"""Render one backtest (and its gate checks) as a single self-contained HTML file: plotly inlined, no CDN."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2
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


def _rows(frame: pd.DataFrame) -> list[dict[Any, Any]]:
    return frame.assign(
        entry_time=frame["entry_time"].map(lambda t: pd.Timestamp(t).isoformat()),
        exit_time=frame["exit_time"].map(lambda t: "" if pd.isna(t) else pd.Timestamp(t).isoformat()),
    ).to_dict("records")


def backtest_figures(result: BacktestResult, split: pd.Timestamp | None) -> dict[str, Any]:
    """Every chart of a backtest report, by name."""
    from tradeops.reports import charts, statistics

    bars, equity = result.bars, result.equity
    per_year = bars.bars_per_year()
    window = max(5, min(126, len(equity) // 4))
    settings = result.settings
    benchmark = charts.buy_and_hold_curve(
        bars.close, bars.index, settings.cash, sizing.lot_code(settings.lot_size), sizing.lot_code(settings.min_size)
    )
    figures: dict[str, Any] = {
        "equity": charts.equity_figure(equity, benchmark, split),
        "underwater": charts.underwater_figure(equity),
    }
    for column, symbol in enumerate(bars.symbols):
        close = pd.Series(bars.close[:, column], index=bars.index)
        figures[f"price-{column}"] = charts.price_figure(close, pd.concat([result.trades, result.open_trades]), symbol)
    figures["monthly"] = charts.monthly_figure(statistics.monthly_returns(equity))
    figures["rolling"] = charts.rolling_sharpe_figure(statistics.rolling_sharpe(equity, per_year, window), window)
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

    fraction = oos_train_fraction if oos_train_fraction is not None else _oos_fraction(verdict)
    extra = statistics.extra_metrics(result.equity, result.trades, result.bars.bars_per_year())
    return ENV.get_template("report.html.j2").render(
        result=result,
        verdict=verdict,
        fmt=fmt,
        metrics=result.metrics | extra,
        definitions=DEFINITIONS,
        charts=charts(backtest_figures(result, split_time(result, fraction))),
        drawdowns=statistics.worst_drawdowns(result.equity),
        symbols=statistics.per_symbol(result.trades, result.bars.symbols, result.bars.close),
        trades=_rows(result.trades),
        open_trades=_rows(result.open_trades),
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
