"""The selection checks: `min_deflated_sharpe` and `max_pbo`, from the trials the candidate's provenance records."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from tradeops.errors import ConfigError
from tradeops.gate.overfitting import deflated_sharpe, expected_max_sharpe, moments, probability_of_overfitting
from tradeops.gate.verdict import Check

if TYPE_CHECKING:
    from tradeops.data.bars import Bars
    from tradeops.engine.backtest import BacktestResult
    from tradeops.engine.settings import ExecutionSettings
    from tradeops.gate.candidate import Candidate, Provenance
    from tradeops.strategies.base import Strategy, StrategyParams

GROUP = "selection"


def bar_returns(equity: np.ndarray) -> np.ndarray:
    """Per-bar simple returns of an equity curve (one fewer than its bars)."""
    values = np.asarray(equity, dtype=float)
    return np.diff(values, axis=0) / values[:-1]


def trial_points(strategy: Strategy, candidate: Candidate) -> list[StrategyParams]:
    """The points the provenance records (a sweep's grid around the candidate's parameters, or a study's points)."""
    from tradeops.strategies.base import expand_grid, validate_params

    provenance = candidate.provenance
    if provenance.grid is not None:
        fixed = {k: v for k, v in candidate.params.items() if k not in provenance.grid}
        points, _ = expand_grid(strategy, fixed, provenance.grid)
        return points
    if provenance.points is not None:
        return [validate_params(strategy, candidate.params | point) for point in provenance.points]
    return []


def trial_returns(
    strategy: Strategy, points: list[StrategyParams], bars: Bars, settings: ExecutionSettings
) -> np.ndarray:
    """Per-bar returns of every trial on `bars` (bars - 1 x trials): the matrix CSCV cuts."""
    from tradeops.engine.backtest import run_backtest

    curves = [run_backtest(strategy, point, bars, settings).equity.to_numpy() for point in points]
    return bar_returns(np.column_stack(curves))


def _trial_sharpes(matrix: np.ndarray) -> np.ndarray:
    std = matrix.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpes = matrix.mean(axis=0) / std
    return sharpes[np.isfinite(sharpes)]


def _origin(provenance: Provenance) -> str:
    if provenance.method == "hand":
        return "written by hand: trials 1 (declared), no selection to deflate"
    run = f", run {provenance.run}" if provenance.run else ""
    return f"best of {provenance.trials} trials ({provenance.method}{run})"


def deflated_sharpe_check(
    returns: np.ndarray, provenance: Provenance, matrix: np.ndarray | None, bars_per_year: float, limit: float
) -> Check:
    """DSR of the candidate's per-bar returns, deflated for the trials it was picked from."""
    found = moments(returns)
    if math.isnan(found.sharpe):
        return Check("min_deflated_sharpe", GROUP, None, limit, False, "undefined: the equity never moved")
    if provenance.sharpe_variance is not None:
        variance = provenance.sharpe_variance / bars_per_year
        source = f"{provenance.sharpe_variance:.4g} annualised, recorded"
    elif matrix is not None and provenance.trials > 1:
        variance = float(np.var(_trial_sharpes(matrix), ddof=1))
        source = f"{variance * bars_per_year:.4g} annualised, of the rebuilt trials"
    elif provenance.trials == 1:
        variance, source = 0.0, "none"
    else:
        detail = f"{_origin(provenance)}: records neither the Sharpe variance nor the points to rebuild it"
        return Check("min_deflated_sharpe", GROUP, None, limit, False, detail)
    value = deflated_sharpe(
        found.sharpe,
        trials=provenance.trials,
        sharpe_variance=variance,
        n_obs=found.n_obs,
        skew=found.skew,
        kurtosis=found.kurtosis,
    )
    annual = math.sqrt(bars_per_year)
    benchmark = expected_max_sharpe(provenance.trials, variance) * annual
    detail = (
        f"{_origin(provenance)}; Sharpe {found.sharpe * annual:.3f} a year over {found.n_obs:,} bars against"
        f" {benchmark:.3f} expected of the best unskilled trial (Sharpe variance {source});"
        f" skew {found.skew:.2f}, kurtosis {found.kurtosis:.2f}"
    )
    if math.isnan(value):
        return Check("min_deflated_sharpe", GROUP, None, limit, False, detail + "; undefined")
    return Check("min_deflated_sharpe", GROUP, value, limit, value >= limit, detail)


def pbo_check(matrix: np.ndarray | None, provenance: Provenance, limit: float, splits: int) -> Check:
    """PBO by CSCV over the rebuilt trials; a single trial has no selection to overfit and passes, saying so."""
    if provenance.trials == 1:
        return Check("max_pbo", GROUP, None, limit, True, _origin(provenance) + "; PBO needs two trials or more")
    if matrix is None or matrix.shape[1] < 2:
        detail = f"{_origin(provenance)}: records no grid or points to rebuild the trials' returns"
        return Check("max_pbo", GROUP, None, limit, False, detail)
    try:
        estimate = probability_of_overfitting(matrix, splits)
    except ConfigError as error:
        return Check("max_pbo", GROUP, None, limit, False, str(error))
    rebuilt = f"{matrix.shape[1]} of {provenance.trials} trials rebuilt"
    detail = (
        f"{_origin(provenance)}; CSCV, {estimate.splits} blocks, {estimate.combinations:,} combinations, {rebuilt};"
        f" median logit {float(np.median(estimate.logits)):.2f}"
    )
    return Check("max_pbo", GROUP, estimate.pbo, limit, estimate.pbo <= limit, detail)


def selection_checks(strategy: Strategy, candidate: Candidate, result: BacktestResult) -> list[Check]:
    """The enabled selection checks of the candidate, its trials backtested on the same bars and settings."""
    selection = candidate.thresholds.selection
    if selection.min_deflated_sharpe is None and selection.max_pbo is None:
        return []
    points = trial_points(strategy, candidate) if candidate.provenance.trials > 1 else []
    matrix = trial_returns(strategy, points, result.bars, result.settings) if len(points) > 1 else None
    checks = []
    if selection.min_deflated_sharpe is not None:
        returns = bar_returns(result.equity.to_numpy())
        per_year = result.bars.bars_per_year()
        checks.append(
            deflated_sharpe_check(returns, candidate.provenance, matrix, per_year, selection.min_deflated_sharpe)
        )
    if selection.max_pbo is not None:
        checks.append(pbo_check(matrix, candidate.provenance, selection.max_pbo, selection.pbo_splits))
    return checks
