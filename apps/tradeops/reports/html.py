"""Render one backtest (and its gate checks) as a single self-contained HTML file: no scripts, no CDN."""

from __future__ import annotations

from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from tradeops.engine.backtest import BacktestResult
from tradeops.gate.verdict import Verdict

WIDTH, HEIGHT, PAD = 900, 220, 36
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("tradeops.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
)


def _polyline(values: np.ndarray) -> tuple[str, float, float]:
    """Return SVG points scaled into the plot box, with the value range."""
    step = max(1, len(values) // WIDTH)  # at most one point per pixel
    sampled = values[::step]
    low, high = float(np.nanmin(sampled)), float(np.nanmax(sampled))
    span = high - low or 1.0
    xs = PAD + np.linspace(0, WIDTH - 2 * PAD, len(sampled))
    ys = HEIGHT - PAD - (sampled - low) / span * (HEIGHT - 2 * PAD)
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True)), low, high


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "n/a" if not np.isfinite(value) else f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.2f}"
    return str(value)


def render(result: BacktestResult, verdict: Verdict | None = None) -> str:
    """Return the report as an HTML string."""
    equity = result.equity.to_numpy()
    drawdown = (equity / np.maximum.accumulate(equity) - 1) * 100
    equity_points, equity_low, equity_high = _polyline(equity)
    drawdown_points, drawdown_low, _ = _polyline(drawdown)
    trades = result.trades.assign(
        entry_time=result.trades["entry_time"].map(lambda t: pd.Timestamp(t).isoformat()),
        exit_time=result.trades["exit_time"].map(lambda t: pd.Timestamp(t).isoformat()),
    )
    return _ENV.get_template("report.html.j2").render(
        result=result,
        verdict=verdict,
        fmt=_fmt,
        width=WIDTH,
        height=HEIGHT,
        pad=PAD,
        equity_points=equity_points,
        equity_range=(equity_low, equity_high),
        drawdown_points=drawdown_points,
        drawdown_low=drawdown_low,
        trades=trades.to_dict("records"),
        start=result.bars.index[0].isoformat(),
        end=result.bars.index[-1].isoformat(),
        fingerprint=result.bars.fingerprint(),
        data=result.bars.provenance(),
    )


def write_report(path: Path, result: BacktestResult, verdict: Verdict | None = None) -> Path:
    """Write the report atomically (temp file, then rename) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(render(result, verdict), encoding="utf-8")
    partial.replace(path)
    return path
