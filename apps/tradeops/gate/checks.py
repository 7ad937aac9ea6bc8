"""Evaluate a candidate against its thresholds."""

from __future__ import annotations

import math

import numpy as np

from tradeops.data.bars import Bars
from tradeops.data.quality import QualityReport
from tradeops.engine.backtest import BacktestResult, run_backtest, run_grid
from tradeops.engine.settings import ExecutionSettings
from tradeops.gate.thresholds import Profitability, Safety, Thresholds
from tradeops.gate.verdict import Check
from tradeops.strategies.base import Strategy, StrategyParams, neighbours, table_from_points

MINIMUMS = {  # threshold -> metric it bounds from below
    "min_trades": "trades",
    "min_sharpe": "sharpe",
    "min_profit_factor": "profit_factor",
    "min_total_return_pct": "total_return_pct",
    "min_excess_return_pct": "excess_return_pct",
}
MAXIMUMS = {
    "max_drawdown_pct": "max_drawdown_pct",
    "max_exposure_pct": "exposure_pct",
    "max_skipped_entries": "skipped_entries",
}


def _compare(name: str, group: str, value: float, limit: float, at_least: bool) -> Check:
    if math.isnan(value):
        return Check(name, group, None, limit, False, "undefined (e.g. no closed trades)")
    passed = value >= limit if at_least else value <= limit
    return Check(name, group, float(value), float(limit), passed)


def metric_checks(metrics: dict[str, float], profitability: Profitability, safety: Safety) -> list[Check]:
    """Compare metrics with the plain minimum and maximum thresholds that are switched on."""
    checks = []
    for name, metric in MINIMUMS.items():
        limit = getattr(profitability, name)
        if limit is not None:
            checks.append(_compare(name, "profitability", metrics[metric], limit, at_least=True))
    for name, metric in MAXIMUMS.items():
        limit = getattr(safety, name)
        if limit is not None:
            checks.append(_compare(name, "safety", metrics[metric], limit, at_least=False))
    return checks


def _sharpe(equity: np.ndarray, bars_per_year: float) -> float:
    returns = np.diff(equity) / equity[:-1]
    if len(returns) < 2 or returns.std(ddof=1) == 0:
        return float("nan")
    return float(returns.mean() / returns.std(ddof=1) * math.sqrt(bars_per_year))


def out_of_sample_check(result: BacktestResult, safety: Safety) -> Check:
    """Sharpe after the split must reach `min_oos_sharpe_ratio` x Sharpe before it."""
    assert safety.oos_train_fraction is not None and safety.min_oos_sharpe_ratio is not None
    equity = result.equity.to_numpy()
    cut = int(len(equity) * safety.oos_train_fraction)
    per_year = result.bars.bars_per_year()
    in_sample, out_sample = _sharpe(equity[: cut + 1], per_year), _sharpe(equity[cut:], per_year)
    limit = safety.min_oos_sharpe_ratio * in_sample
    detail = f"in-sample Sharpe {in_sample:.3f} before {result.bars.index[cut].date()}, out-of-sample {out_sample:.3f}"
    if math.isnan(in_sample) or in_sample <= 0:
        return Check(
            "min_oos_sharpe_ratio",
            "safety",
            _or_none(out_sample),
            _or_none(limit),
            False,
            detail + "; no in-sample edge",
        )
    if math.isnan(out_sample):
        return Check("min_oos_sharpe_ratio", "safety", None, limit, False, detail)
    return Check("min_oos_sharpe_ratio", "safety", out_sample, limit, out_sample >= limit, detail)


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def lookahead_check(strategy: Strategy, params: StrategyParams, bars: Bars, cuts: int) -> Check:
    """Signals computed on data cut at many points must equal the full-data signals up to each cut."""
    table = table_from_points([params])
    full = strategy.signals(bars, table).as_tuple()
    points = np.unique(np.linspace(2, bars.n_bars, num=min(cuts, bars.n_bars - 1), dtype=int))
    mismatched = []
    for cut in points:
        partial = strategy.signals(bars.head(int(cut)), table).as_tuple()
        if any(not np.array_equal(a, b[:cut]) for a, b in zip(partial, full, strict=True)):
            mismatched.append(int(cut))
    detail = f"{len(points)} cut points checked"
    if mismatched:
        detail += f"; first mismatch when cut at {bars.index[mismatched[0] - 1]}"
    return Check("lookahead_cuts", "safety", float(len(mismatched)), 0.0, not mismatched, detail)


def robustness_check(
    strategy: Strategy, params: StrategyParams, bars: Bars, settings: ExecutionSettings, thresholds: Thresholds
) -> Check:
    """A set share of the neighbouring parameter points must also pass the metric thresholds."""
    limit = thresholds.safety.min_robust_share
    assert limit is not None
    points = neighbours(strategy, params)
    if not points:
        return Check("min_robust_share", "safety", None, limit, False, "the strategy declares no neighbouring points")
    table = run_grid(strategy, points, bars, settings)
    names = list(type(params).model_fields)
    passing = []
    for row in table.to_dict("records"):
        checks = metric_checks({str(k): v for k, v in row.items()}, thresholds.profitability, thresholds.safety)
        if all(c.passed for c in checks):
            passing.append(", ".join(f"{n}={row[n]}" for n in names))
    share = len(passing) / len(points)
    return Check(
        "min_robust_share",
        "safety",
        share,
        limit,
        share >= limit,
        f"{len(passing)} of {len(points)} neighbouring points pass",
    )


def data_quality_checks(report: QualityReport) -> list[Check]:
    """Turn the enabled data quality checks into gate checks: value = defects found, limit = defects allowed."""
    checks = []
    for found in report.checks:
        if found.limit is None:
            continue
        places = "; ".join(f"{w['symbol']} at {w['at']}: {w['detail']}" for w in found.where[:3])
        detail = f"{found.count:,} found, first: {places}" if places else ""
        checks.append(Check(found.name, "data_quality", float(found.count), float(found.limit), found.passed, detail))
    return checks


def evaluate(
    strategy: Strategy, params: StrategyParams, bars: Bars, settings: ExecutionSettings, thresholds: Thresholds
) -> tuple[BacktestResult, list[Check]]:
    """Backtest the candidate and run every enabled check."""
    result = run_backtest(strategy, params, bars, settings)
    safety = thresholds.safety
    checks = metric_checks(result.metrics, thresholds.profitability, safety)
    if safety.oos_train_fraction is not None and safety.min_oos_sharpe_ratio is not None:
        checks.append(out_of_sample_check(result, safety))
    if safety.lookahead_cuts is not None:
        checks.append(lookahead_check(strategy, params, bars, safety.lookahead_cuts))
    if safety.min_robust_share is not None:
        checks.append(robustness_check(strategy, params, bars, settings, thresholds))
    return result, checks
