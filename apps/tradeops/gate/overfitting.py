"""Selection-bias statistics: the deflated Sharpe ratio and the probability of backtest overfitting.

Both are pure functions of numbers and arrays (docs/backtesting.md, "How the candidate was found"):

- `deflated_sharpe`: Bailey and López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection
  Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5), 2014. The
  probabilistic Sharpe ratio against the Sharpe ratio the best of N unskilled trials is expected to reach.
- `probability_of_overfitting`: Bailey, Borwein, López de Prado and Zhu, "The Probability of Backtest
  Overfitting", Journal of Computational Finance 20(4), 2017 (SSRN 2326253, 2015): combinatorially
  symmetric cross-validation (CSCV) over the matrix of per-bar returns of every trial.

Sharpe ratios here are per bar (not annualised), as in the papers' formulas; callers convert.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from tradeops.errors import ConfigError

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


@dataclass(frozen=True)
class ReturnMoments:
    """The per-bar Sharpe ratio, skewness and (non-excess) kurtosis of one return series."""

    sharpe: float
    skew: float
    kurtosis: float
    n_obs: int


def moments(returns: np.ndarray) -> ReturnMoments:
    """Per-bar Sharpe (ddof=1, as the engine's), skewness and kurtosis (3 for a normal distribution)."""
    values = np.asarray(returns, dtype=float)
    std = values.std(ddof=1) if len(values) > 1 else 0.0
    if std == 0 or not math.isfinite(std):
        return ReturnMoments(float("nan"), float("nan"), float("nan"), len(values))
    centred = values - values.mean()
    spread = values.std(ddof=0)
    skew = float((centred**3).mean() / spread**3)
    kurtosis = float((centred**4).mean() / spread**4)
    return ReturnMoments(float(values.mean() / std), skew, kurtosis, len(values))


def probabilistic_sharpe(sharpe: float, benchmark: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """P(true Sharpe > benchmark) given the observed per-bar Sharpe of `n_obs` returns (PSR, eq. 9 of the DSR paper)."""
    variance = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if n_obs < 2 or variance <= 0:
        return float("nan")
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(variance))


def expected_max_sharpe(trials: int, variance: float) -> float:
    """The Sharpe ratio the best of `trials` unskilled trials reaches on average (the DSR paper's SR0).

    sqrt(V) x ((1 - gamma) x Z^-1(1 - 1/N) + gamma x Z^-1(1 - 1/(N e))), gamma the Euler-Mascheroni
    constant; 0 for one trial (nothing was selected).
    """
    if trials < 1:
        raise ConfigError(f"trials must be at least 1, not {trials}")
    if trials == 1 or variance <= 0:
        return 0.0
    return math.sqrt(variance) * (
        (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / trials) + EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (trials * math.e))
    )


def deflated_sharpe(
    sharpe: float, *, trials: int, sharpe_variance: float, n_obs: int, skew: float, kurtosis: float
) -> float:
    """The probability that the true Sharpe ratio is above zero, given that this one is the best of `trials`.

    `sharpe` and `sharpe_variance` (the variance of the trials' Sharpe ratios) are per bar.
    """
    return probabilistic_sharpe(sharpe, expected_max_sharpe(trials, sharpe_variance), n_obs, skew, kurtosis)


@dataclass(frozen=True)
class OverfittingEstimate:
    """The CSCV outcome: PBO and the logits it counts, one per train/test combination."""

    pbo: float
    logits: np.ndarray
    splits: int
    combinations: int


def probability_of_overfitting(returns: np.ndarray, splits: int) -> OverfittingEstimate:
    """PBO by CSCV over `returns` (bars x trials): how often the in-sample best trial ranks at or below the
    median out of sample.

    The bars are cut into `splits` (even) contiguous blocks of equal length (the oldest bars that do
    not fill one are dropped). Each choice of splits/2 blocks is a training set, the rest its test set. The trial with
    the highest in-sample Sharpe ratio is ranked among all trials by out-of-sample Sharpe ratio (1 =
    worst, N = best; ties share the mean rank); w = rank / (N + 1) and the logit l = ln(w / (1 - w)).
    PBO is the share of combinations with l <= 0.
    """
    matrix = np.asarray(returns, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ConfigError("PBO needs a bars x trials matrix with at least 2 trials")
    if splits < 2 or splits % 2:
        raise ConfigError(f"pbo_splits must be an even number >= 2, not {splits}")
    block = matrix.shape[0] // splits
    if block < 2:
        raise ConfigError(f"{matrix.shape[0]} bars cannot be cut into {splits} blocks of at least 2 bars")
    blocks = matrix[len(matrix) - block * splits :].reshape(splits, block, matrix.shape[1])
    sums, squares = blocks.sum(axis=1), (blocks**2).sum(axis=1)  # per block and trial
    logits = []
    for train in itertools.combinations(range(splits), splits // 2):
        test = [b for b in range(splits) if b not in train]
        best = int(np.argmax(_block_sharpe(sums[list(train)], squares[list(train)], block)))
        outside = _block_sharpe(sums[test], squares[test], block)
        rank = _mean_rank(outside, best)
        relative = rank / (matrix.shape[1] + 1)
        logits.append(math.log(relative / (1 - relative)))
    values = np.array(logits)
    return OverfittingEstimate(float((values <= 0).mean()), values, splits, len(values))


def _block_sharpe(sums: np.ndarray, squares: np.ndarray, block: int) -> np.ndarray:
    """Per-bar Sharpe (ddof=1) of each trial over the chosen blocks; an undefined one ranks last."""
    n = sums.shape[0] * block
    total, total_squares = sums.sum(axis=0), squares.sum(axis=0)
    mean = total / n
    variance = np.maximum(total_squares - n * mean**2, 0) / (n - 1)
    std = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(std > 0, mean / std, -np.inf)
    return sharpe


def _mean_rank(values: np.ndarray, index: int) -> float:
    """The 1-based rank of `values[index]` among `values`, ties sharing the mean of their ranks."""
    below = float((values < values[index]).sum())
    equal = float((values == values[index]).sum())
    return below + (equal + 1) / 2
