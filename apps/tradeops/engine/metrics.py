"""Performance metrics from the kernel's accumulators, vectorised over parameter points.

Definitions (r = per-bar simple return of portfolio equity, risk-free rate 0, A = observed bars
per calendar year, Y = calendar years covered by the data):

- total_return_pct: (final / initial - 1) x 100
- cagr_pct: ((final / initial) ^ (1 / Y) - 1) x 100
- sharpe: mean(r) / std(r, ddof=1) x sqrt(A)
- sortino: mean(r) / sqrt(mean(min(r, 0)^2)) x sqrt(A)
- max_drawdown_pct: largest fall from a running equity peak, in percent (a positive number)
- max_drawdown_duration_bars / _days: longest time from a peak to the bar equity regains it
  (or to the end); days are the calendar span between those two bars' times (weekends and gaps included)
- calmar: cagr_pct / max_drawdown_pct
- profit_factor: gross profit / gross loss of closed trades (inf when no trade lost)
- expectancy: mean profit per closed trade, in cash, after costs
- win_rate_pct: winning closed trades / closed trades x 100
- exposure_pct: bars with an open position / bars x 100
- trades: closed trades (a position still open at the end counts in equity, not here)
- skipped_entries: entry signals that filled nothing (cash below one lot or the minimum, no cash left)
- sqn: sqrt(trades) x mean(trade pnl) / std(trade pnl, ddof=1) (Van Tharp's system quality number)
- buy_and_hold_*: the same numbers for holding every symbol (equal weight) from the first close, in the
  strategy's units: each symbol's share of the cash buys whole lots (none below the minimum), the rest stays cash
- excess_return_pct: total_return_pct - buy_and_hold_return_pct
Undefined values (no trades, no variance) are NaN, written as null in JSON.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeops.engine import kernel, sizing

METRIC_NAMES = (
    "total_return_pct",
    "cagr_pct",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown_pct",
    "max_drawdown_duration_bars",
    "max_drawdown_duration_days",
    "profit_factor",
    "expectancy",
    "win_rate_pct",
    "exposure_pct",
    "trades",
    "sqn",
    "buy_and_hold_return_pct",
    "buy_and_hold_sharpe",
    "buy_and_hold_max_drawdown_pct",
    "excess_return_pct",
    "skipped_entries",
)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(a, dtype="float64") / np.asarray(b, dtype="float64")


def buy_and_hold(
    close: np.ndarray, bars_per_year: float, *, cash: float = 1.0, lot: float = np.nan, minimum: float = np.nan
) -> dict[str, float]:
    """Return, Sharpe and max drawdown of holding every symbol in equal weight from the first close (`held_curve`)."""
    curve = held_curve(close, cash=cash, lot=lot, minimum=minimum)
    returns = np.diff(curve) / curve[:-1]
    std = returns.std(ddof=1) if len(returns) > 1 else np.nan
    peak = np.maximum.accumulate(curve)
    return {
        "buy_and_hold_return_pct": float((curve[-1] - 1) * 100),
        "buy_and_hold_sharpe": float(returns.mean() / std * np.sqrt(bars_per_year)) if std else np.nan,
        "buy_and_hold_max_drawdown_pct": float((1 - curve / peak).max() * 100),
    }


def held_curve(close: np.ndarray, *, cash: float = 1.0, lot: float = np.nan, minimum: float = np.nan) -> np.ndarray:
    """Equity per bar over `cash` of buying every symbol in equal weight at the first close and holding it.

    Each symbol's share of `cash` buys `sizing.units` of it (lots of `lot`, none below `minimum`; NaN:
    any fraction, no minimum), as the strategy's orders are sized; what it cannot buy stays cash.
    """
    share = cash / close.shape[1]
    held = np.array([sizing.units(share, float(price), lot, minimum) for price in close[0]])
    return np.asarray(((share - held * close[0]) + held * close).sum(axis=1) / cash)


def from_raw(
    raw: np.ndarray,
    *,
    initial_cash: float,
    n_bars: int,
    years: float,
    bars_per_year: float,
    benchmark: dict[str, float],
) -> dict[str, np.ndarray]:
    """Turn accumulators of shape (points, fields) into named metric arrays of shape (points,)."""
    col = {name: raw[:, i] for i, name in enumerate(kernel.RAW_FIELDS)}
    growth = col["final_equity"] / initial_cash
    n_ret = col["n_returns"]
    std = np.sqrt(_divide(col["return_m2"], n_ret - 1))
    downside = np.sqrt(_divide(col["downside_sq"], n_ret))
    trades = col["closed_trades"]
    net = col["gross_profit"] - col["gross_loss"]
    pnl_var = _divide(col["pnl_sq"] - _divide(net * net, trades), trades - 1)
    annual = np.sqrt(bars_per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        cagr = (np.power(growth, 1 / years) - 1) * 100 if years > 0 else np.full_like(growth, np.nan)
    drawdown_pct = col["max_drawdown"] * 100
    metrics = {
        "total_return_pct": (growth - 1) * 100,
        "cagr_pct": cagr,
        "sharpe": _divide(col["return_mean"], std) * annual,
        "sortino": _divide(col["return_mean"], downside) * annual,
        "calmar": _divide(cagr, drawdown_pct),
        "max_drawdown_pct": drawdown_pct,
        "max_drawdown_duration_bars": col["max_drawdown_bars"],
        "max_drawdown_duration_days": col["max_drawdown_days"],
        "profit_factor": np.where(trades > 0, _divide(col["gross_profit"], col["gross_loss"]), np.nan),
        "expectancy": _divide(net, trades),
        "win_rate_pct": _divide(col["winning_trades"], trades) * 100,
        "exposure_pct": col["exposure_bars"] / n_bars * 100,
        "trades": trades,
        "sqn": np.sqrt(trades) * _divide(_divide(net, trades), np.sqrt(np.clip(pnl_var, 0, None))),
        "skipped_entries": col["skipped_entries"],
    }
    for name, value in benchmark.items():
        metrics[name] = np.full_like(growth, value)
    metrics["excess_return_pct"] = metrics["total_return_pct"] - benchmark["buy_and_hold_return_pct"]
    return metrics


def elapsed_days(index: pd.DatetimeIndex) -> np.ndarray:
    """Each bar's time in (fractional) calendar days from the first bar, as the kernel's drawdown spans use."""
    seconds = (index - index[0]).total_seconds()
    return np.ascontiguousarray(np.asarray(seconds, dtype=np.float64) / 86400)


def raw_from_history(
    initial_cash: float, equity: np.ndarray, exposed: np.ndarray, pnls: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """The kernel's accumulators (shape (1, fields)) rebuilt from a recorded equity curve, the bars with a
    position, the closed trades' PnL in closing order and each bar's `elapsed_days`, through the kernel's own
    accumulating functions: how the trader's ledger gets exactly the backtest's metrics."""
    raw = np.zeros((1, len(kernel.RAW_FIELDS)))
    bar_totals, peak, peak_bar, previous = kernel.NO_BARS, initial_cash, 0, initial_cash
    for t, value in enumerate(equity):
        bar_totals, peak, peak_bar = kernel.add_bar(
            bar_totals, t, float(value), previous, peak, peak_bar, bool(exposed[t]), days
        )
        previous = float(value)
    trade_totals = kernel.NO_TRADES
    for pnl in pnls:
        trade_totals = kernel.add_trade(trade_totals, float(pnl))
    kernel.store_totals(raw[0], trade_totals, bar_totals, 0.0, previous)
    return raw
