"""Tearsheet numbers computed from a recorded equity curve and its trades, on every bar.

The kernel's metrics (engine/metrics.py) are the gate's; these add what a quant expects from a
QuantStats tearsheet. Definitions (r = per-bar simple return of equity, A = bars per year):

- volatility_pct: std(r, ddof=1) x sqrt(A) x 100
- omega: sum(max(r, 0)) / sum(max(-r, 0)) (threshold 0)
- tail_ratio: |95th percentile of r| / |5th percentile of r|
- var_95_pct: -(5th percentile of r) x 100, historical one-bar value at risk
- cvar_95_pct: -mean(r where r <= 5th percentile) x 100, the expected shortfall
- skew, kurtosis: of r (Fisher's kurtosis: 0 for a normal distribution)
- recovery_factor: (final - initial) / the largest peak-to-trough fall, both in cash
- kelly_pct: (W - (1 - W) / (average win / average loss)) x 100, W the win rate of closed trades
- best_trade_pct, worst_trade_pct, avg_trade_pct: return of closed trades
- avg_win, avg_loss: mean PnL of winning / losing closed trades, in cash
- avg_trade_duration_days: mean (exit - entry) of closed trades, calendar days
- max_consecutive_wins, max_consecutive_losses: longest run of winning / losing closed trades
NaN when undefined (no trades, no losing bar).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

EXTRA_NAMES = (
    "volatility_pct",
    "omega",
    "tail_ratio",
    "var_95_pct",
    "cvar_95_pct",
    "skew",
    "kurtosis",
    "recovery_factor",
    "kelly_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "avg_trade_pct",
    "avg_win",
    "avg_loss",
    "avg_trade_duration_days",
    "max_consecutive_wins",
    "max_consecutive_losses",
)


def _ratio(a: float, b: float) -> float:
    return a / b if b and math.isfinite(b) else math.nan


def bar_returns(equity: pd.Series) -> np.ndarray:
    values = equity.to_numpy(dtype="float64")
    return np.diff(values) / values[:-1]


def drawdown_pct(equity: pd.Series) -> pd.Series:
    """Percent below the running peak at every bar (0 at a peak, negative below it)."""
    return (equity / equity.cummax() - 1) * 100


def _return_stats(returns: np.ndarray, bars_per_year: float) -> dict[str, float]:
    if len(returns) < 2:
        return dict.fromkeys(
            ("volatility_pct", "omega", "tail_ratio", "var_95_pct", "cvar_95_pct", "skew", "kurtosis"), math.nan
        )
    low, high = np.quantile(returns, 0.05), np.quantile(returns, 0.95)
    series = pd.Series(returns)
    return {
        "volatility_pct": float(returns.std(ddof=1) * math.sqrt(bars_per_year) * 100),
        "omega": _ratio(float(np.clip(returns, 0, None).sum()), float(np.clip(-returns, 0, None).sum())),
        "tail_ratio": _ratio(abs(float(high)), abs(float(low))),
        "var_95_pct": float(-low * 100),
        "cvar_95_pct": float(-returns[returns <= low].mean() * 100),
        "skew": float(series.skew()),  # type: ignore[arg-type]  # a scalar for a Series
        "kurtosis": float(series.kurt()),  # type: ignore[arg-type]
    }


def _longest_run(flags: np.ndarray) -> int:
    best = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


def _trade_stats(trades: pd.DataFrame) -> dict[str, float]:
    pnl = trades["pnl"].to_numpy(dtype="float64")
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    avg_win = float(wins.mean()) if len(wins) else math.nan
    avg_loss = float(-losses.mean()) if len(losses) else math.nan
    win_rate = len(wins) / len(pnl) if len(pnl) else math.nan
    kelly = (win_rate - (1 - win_rate) / _ratio(avg_win, avg_loss)) * 100 if len(wins) and len(losses) else math.nan
    held = (pd.to_datetime(trades["exit_time"]) - pd.to_datetime(trades["entry_time"])).dt.total_seconds() / 86400
    returns = trades["return_pct"].to_numpy(dtype="float64")
    empty = len(pnl) == 0
    return {
        "kelly_pct": kelly,
        "best_trade_pct": math.nan if empty else float(returns.max()),
        "worst_trade_pct": math.nan if empty else float(returns.min()),
        "avg_trade_pct": math.nan if empty else float(returns.mean()),
        "avg_win": avg_win,
        "avg_loss": -avg_loss if math.isfinite(avg_loss) else math.nan,
        "avg_trade_duration_days": math.nan if empty else float(held.mean()),
        "max_consecutive_wins": float(_longest_run(pnl > 0)),
        "max_consecutive_losses": float(_longest_run(pnl <= 0)),
    }


def extra_metrics(equity: pd.Series, trades: pd.DataFrame, bars_per_year: float) -> dict[str, float]:
    """The tearsheet numbers of EXTRA_NAMES, from every bar of `equity` and the closed `trades`."""
    values = equity.to_numpy(dtype="float64")
    fall = float((np.maximum.accumulate(values) - values).max())
    stats = _return_stats(bar_returns(equity), bars_per_year)
    stats["recovery_factor"] = _ratio(float(values[-1] - values[0]), fall)
    stats.update(_trade_stats(trades))
    return {name: stats[name] for name in EXTRA_NAMES}


def worst_drawdowns(equity: pd.Series, top: int = 5) -> list[dict[str, Any]]:
    """The `top` deepest drawdown periods: peak, trough, recovery (None while under water), depth, length."""
    under = drawdown_pct(equity).to_numpy()
    index = pd.DatetimeIndex(equity.index)
    periods: list[dict[str, Any]] = []
    start = None
    for t, depth in enumerate(under):
        if depth < 0 and start is None:
            start = t - 1
        elif depth >= 0 and start is not None:
            periods.append(_period(index, under, start, t))
            start = None
    if start is not None:
        periods.append(_period(index, under, start, None))
    return sorted(periods, key=lambda p: p["depth_pct"])[:top]


def _period(index: pd.DatetimeIndex, under: np.ndarray, start: int, end: int | None) -> dict[str, Any]:
    stop = len(under) if end is None else end
    trough = start + int(np.argmin(under[start:stop]))
    last = index[end] if end is not None else index[-1]
    return {
        "peak": index[start],
        "trough": index[trough],
        "recovered": index[end] if end is not None else None,
        "depth_pct": float(under[trough]),
        "days": (last - index[start]).total_seconds() / 86400,
    }


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Percent return per calendar month (rows years, columns 1..12), from month-end equity."""
    month_end = equity.resample("ME").last().dropna()
    previous = month_end.shift(1)
    previous.iloc[0] = equity.iloc[0]
    returns = (month_end / previous - 1) * 100
    months = pd.DatetimeIndex(returns.index)
    frame = pd.DataFrame({"year": months.year, "month": months.month, "value": returns.to_numpy()})
    return frame.pivot(index="year", columns="month", values="value").reindex(columns=range(1, 13))


ROLLING_WINDOW = pd.Timedelta(days=182)  # six months, whatever the bar spacing
GAP_FACTOR = 10  # a hole this many median spacings wide (and over GAP_MINIMUM) is a gap in the data
GAP_MINIMUM = pd.Timedelta(days=5)  # longer than any weekend or holiday


def rolling_sharpe(equity: pd.Series, bars_per_year: float, window: pd.Timedelta = ROLLING_WINDOW) -> pd.Series:
    """Sharpe over the bars of the last `window` of time at every bar; NaN until the first full window."""
    returns = equity.pct_change()
    rolling = returns.rolling(window)
    sharpe = rolling.mean() / rolling.std(ddof=1) * math.sqrt(bars_per_year)
    index = pd.DatetimeIndex(equity.index)
    return sharpe.where(index >= index[0] + window)


def window_label(window: pd.Timedelta) -> str:
    """A time window as people say it: 6 months, 1 year, 30 days."""
    days = window.total_seconds() / 86400
    if days >= 360 and days % 365 < 5:
        return f"{round(days / 365)} year" + ("s" if round(days / 365) > 1 else "")
    if days >= 28:
        return f"{round(days / 30.4)} months"
    return f"{days:g} days"


def gap_starts(index: pd.DatetimeIndex) -> np.ndarray:
    """Positions of the bars that follow a gap: a hole wider than GAP_FACTOR median spacings and GAP_MINIMUM."""
    if len(index) < 3:
        return np.array([], dtype=np.int64)
    spacing = pd.Series(index[1:] - index[:-1])
    limit = max(spacing.median() * GAP_FACTOR, GAP_MINIMUM)
    return np.flatnonzero((spacing > limit).to_numpy()) + 1


def break_at_gaps(series: pd.Series) -> pd.Series:
    """The series with a NaN just before every bar that follows a gap, so a chart draws no line across it."""
    index = pd.DatetimeIndex(series.index)
    starts = gap_starts(index)
    if not len(starts):
        return series
    holes = pd.Series(np.nan, index=index[starts] - pd.Timedelta(1, "ns"))
    return pd.concat([series, holes]).sort_index()


def yearly_returns(equity: pd.Series) -> pd.Series:
    """Percent return per calendar year, from year-end equity (the first year from the first bar)."""
    year_end = equity.resample("YE").last().dropna()
    previous = year_end.shift(1)
    previous.iloc[0] = equity.iloc[0]
    returns = (year_end / previous - 1) * 100
    return pd.Series(returns.to_numpy(), index=pd.DatetimeIndex(returns.index).year)


def per_symbol(trades: pd.DataFrame, symbols: tuple[str, ...], close: np.ndarray) -> list[dict[str, Any]]:
    """Closed trades, win rate, PnL and the buy-and-hold return of every symbol."""
    rows = []
    for column, symbol in enumerate(symbols):
        mine = trades[trades["symbol"] == symbol]
        pnl = mine["pnl"].to_numpy(dtype="float64")
        rows.append(
            {
                "symbol": symbol,
                "trades": len(mine),
                "win_rate_pct": float((pnl > 0).mean() * 100) if len(pnl) else math.nan,
                "pnl": float(pnl.sum()),
                "buy_and_hold_return_pct": float((close[-1, column] / close[0, column] - 1) * 100),
            }
        )
    return rows
