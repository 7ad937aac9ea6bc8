"""The `champion` check: the candidate against the bundle running in the stack, on the same recent bars.

Both are backtested on the candidate's bars with the candidate's execution settings; their per-bar
returns over the most recent out-of-sample window (the bars after `oos_train_fraction`) are compared
by a one-sided Diebold-Mariano test: the mean of the differences d = candidate - champion, with a
Newey-West (Bartlett kernel) variance, against -margin. The candidate is refused only when the test
shows it worse than the champion by more than the margin (z < -Z(confidence)); see docs/backtesting.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from tradeops.gate.verdict import Check

if TYPE_CHECKING:
    from tradeops.engine.backtest import BacktestResult
    from tradeops.gate.candidate import Candidate
    from tradeops.gate.thresholds import Thresholds
    from tradeops.store.objects import ObjectStore

DEFAULT_WINDOW_START = 0.7  # when the out-of-sample check is off, the champion window is still the last 30%


@dataclass(frozen=True)
class Champion:
    """The candidate of the bundle running in a stack, and where it came from."""

    candidate: Candidate
    label: str


@dataclass(frozen=True)
class PairedTest:
    """A one-sided Diebold-Mariano test of mean(d) against -margin."""

    mean: float
    statistic: float
    p_value: float
    lags: int


def newey_west_lags(n_obs: int) -> int:
    """The usual automatic bandwidth floor(4 (T/100)^(2/9))."""
    return math.floor(4 * (n_obs / 100) ** (2 / 9))


def paired_test(differences: np.ndarray, margin: float) -> PairedTest:
    """Test H0: mean(d) >= -margin; a small p-value says the candidate trails by more than the margin.

    The variance of the mean is Newey-West's: autocovariances up to `newey_west_lags` weighted 1 - k/(L+1),
    since positions held over many bars make the differences autocorrelated.
    """
    values = np.asarray(differences, dtype=float)
    n_obs, lags = len(values), newey_west_lags(len(values))
    mean = float(values.mean())
    centred = values - mean
    long_run = float(centred @ centred) / n_obs
    for lag in range(1, min(lags, n_obs - 1) + 1):
        long_run += 2 * (1 - lag / (lags + 1)) * float(centred[lag:] @ centred[:-lag]) / n_obs
    error = math.sqrt(max(long_run, 0.0) / n_obs)
    shortfall = mean + margin
    statistic = shortfall / error if error > 0 else math.copysign(math.inf, shortfall)
    return PairedTest(mean, statistic, NormalDist().cdf(statistic), lags)


def running_champion(stack: str, objects: ObjectStore | None = None) -> Champion | None:
    """The candidate of the stack's running release (its bundle's when it has one); None before a first deploy.

    Releases are read from `objects`, or from the object store the settings name.
    """
    from tradeops.bundles import BundleStore
    from tradeops.gate.candidate import validate_candidate
    from tradeops.releases import ReleaseStore

    if objects is None:
        from tradeops.settings import load_settings
        from tradeops.store.objects import open_object_store

        settings = load_settings()
        objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    release = ReleaseStore(objects).current(stack)
    if release is None:
        return None
    bundle = BundleStore(objects).find(release.bundle_id) if release.bundle_id else None
    raw = bundle.content.candidate if bundle is not None else release.config.get("candidate")
    if not raw:  # a release that records no candidate (none of the deploy path's) has nothing to compare with
        return None
    source = f"{bundle.id} ({release.version})" if bundle is not None else f"release {release.version}"
    return Champion(validate_candidate(raw, f"stack {stack} running {source}"), source)


def champion_check(result: BacktestResult, champion: Champion | None, thresholds: Thresholds) -> Check | None:
    """Compare the candidate's per-bar returns with the champion's on the last out-of-sample bars."""
    from tradeops.engine.backtest import run_backtest
    from tradeops.strategies import get_strategy

    selection = thresholds.selection
    margin_pct = selection.champion_margin_pct
    if margin_pct is None:
        return None
    z_limit = -NormalDist().inv_cdf(selection.champion_confidence)
    if champion is None:
        return Check(
            "champion",
            "selection",
            None,
            z_limit,
            True,
            "no champion: no bundle runs in the stack yet (first deploy), or no stack named",
        )
    bars = result.bars
    theirs = run_backtest(
        get_strategy(champion.candidate.strategy), champion.candidate.strategy_params(), bars, result.settings
    )
    start = int(len(bars.index) * (thresholds.safety.oos_train_fraction or DEFAULT_WINDOW_START))
    ours_equity, their_equity = result.equity.to_numpy()[start:], theirs.equity.to_numpy()[start:]
    ours, their = np.diff(ours_equity) / ours_equity[:-1], np.diff(their_equity) / their_equity[:-1]
    per_year = bars.bars_per_year()
    test = paired_test(ours - their, margin_pct / 100 / per_year)
    detail = (
        f"against {champion.label} on the last {len(ours):,} bars from {bars.index[start].date()}:"
        f" mean return {ours.mean() * per_year * 100:.2f}% vs {their.mean() * per_year * 100:.2f}% a year,"
        f" margin {margin_pct:g} points; Diebold-Mariano (Newey-West, {test.lags} lags) z {test.statistic:.2f},"
        f" one-sided p {test.p_value:.3f}"
    )
    value = test.statistic if math.isfinite(test.statistic) else None
    passed = test.statistic >= z_limit
    if value is None:
        detail += "; identical returns" if test.mean == 0 else ""
    return Check("champion", "selection", value, z_limit, passed, detail)
