"""Causal indicators broadcast over parameter points.

Each function takes a (bars, symbols) array and an int array of windows (P,) and returns
(bars, symbols, P), computing each distinct window once. Values before a window is full are NaN.
Inside `computed_once()` (a grid's run) a window of the pandas-computed ones (max, min, RSI) is computed
once for all the chunks of the run; moving averages are compiled (`tradeops.strategies.rolling`) and a
crossover grid computes them once per run anyway (`SmaCross.crossover`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from contextvars import ContextVar

import numpy as np
import pandas as pd

# (indicator, id(input), window) -> (input, values); holding the input keeps its id from being reused
_RUN_CACHE: ContextVar[dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] | None] = ContextVar(
    "indicator_cache", default=None
)


@contextlib.contextmanager
def computed_once() -> Iterator[None]:
    """Within the block, each indicator of each window on the same input array is computed once.

    The cache holds one (bars, symbols) float array per distinct window and indicator, and is dropped
    when the block ends.
    """
    token = _RUN_CACHE.set({})
    try:
        yield
    finally:
        _RUN_CACHE.reset(token)


def _per_window(
    values: np.ndarray, windows: np.ndarray, one: Callable[[pd.DataFrame, int], pd.DataFrame]
) -> tuple[list[np.ndarray], np.ndarray]:
    """One (bars, symbols) array per distinct window, and for each point the index of its window's array."""
    unique, inverse = np.unique(np.asarray(windows, dtype=np.int64), return_inverse=True)
    cache = _RUN_CACHE.get()
    frame: pd.DataFrame | None = None
    columns = []
    for window in unique.tolist():
        key = (one.__qualname__, id(values), window)
        hit = cache.get(key) if cache is not None else None
        if hit is not None and hit[0] is values:
            columns.append(hit[1])
            continue
        frame = pd.DataFrame(values) if frame is None else frame
        column = one(frame, window).to_numpy(dtype="float64")
        if cache is not None:
            cache[key] = (values, column)
        columns.append(column)
    return columns, inverse


def _per_unique_window(
    values: np.ndarray, windows: np.ndarray, one: Callable[[pd.DataFrame, int], pd.DataFrame]
) -> np.ndarray:
    columns, inverse = _per_window(values, windows, one)
    return np.stack([columns[i] for i in inverse], axis=-1)  # one copy, straight into the (bars, symbols, P) layout


def _rolling_max(frame: pd.DataFrame, window: int) -> pd.DataFrame:
    return frame.rolling(window).max()


def _rolling_min(frame: pd.DataFrame, window: int) -> pd.DataFrame:
    return frame.rolling(window).min()


def _wilder_rsi(frame: pd.DataFrame, window: int) -> pd.DataFrame:
    change = frame.diff()
    gain = change.clip(lower=0).ewm(alpha=1 / window, adjust=False, min_periods=window).mean()
    loss = (-change.clip(upper=0)).ewm(alpha=1 / window, adjust=False, min_periods=window).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100 - 100 / (1 + gain / loss)


def sma(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Simple moving average of the last `window` values, the current bar included (pandas' rolling mean,
    bit for bit: `tradeops.strategies.rolling`)."""
    stack, inverse = sma_stack(values, windows)
    return np.stack([stack[i] for i in inverse.tolist()], axis=-1)


def sma_stack(values: np.ndarray, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`sma` without the broadcast: (distinct windows, bars, symbols), each window once, and each point's index."""
    from tradeops.strategies import rolling  # numba loads on first use, not with the strategies

    return rolling.sma_stack(values, windows)


def rolling_max(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Highest value of the last `window` values, the current bar included."""
    return _per_unique_window(values, windows, _rolling_max)


def rolling_min(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Lowest value of the last `window` values, the current bar included."""
    return _per_unique_window(values, windows, _rolling_min)


def rsi(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Wilder's relative strength index (0-100), smoothing gains and losses with alpha = 1/window."""

    return _per_unique_window(values, windows, _wilder_rsi)


def crossings(
    fast: list[np.ndarray], fast_of: np.ndarray, slow: list[np.ndarray], slow_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where fast crosses above slow and below it, for point p = (fast[fast_of[p]], slow[slow_of[p]]).

    A cross is strict on both bars (below, then above; as backtesting.py's `crossover`). The
    per-window arrays are compared straight into boolean (bars, symbols, P) arrays, so the float
    values are never broadcast over the points.
    """
    shape = (*fast[0].shape, len(fast_of))
    below, above = np.empty(shape, dtype=bool), np.empty(shape, dtype=bool)
    for point, (i, j) in enumerate(zip(fast_of.tolist(), slow_of.tolist(), strict=True)):
        np.less(fast[i], slow[j], out=below[:, :, point])
        np.greater(fast[i], slow[j], out=above[:, :, point])
    up, down = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    np.logical_and(below[:-1], above[1:], out=up[1:])
    np.logical_and(above[:-1], below[1:], out=down[1:])
    return up, down


def shift_forward(values: np.ndarray) -> np.ndarray:
    """Return values moved one bar later (first bar NaN): the previous bar's value at each bar."""
    shifted = np.full_like(values, np.nan)
    shifted[1:] = values[:-1]
    return shifted


class WilderRsi:
    """`rsi` one bar at a time, for one window and every symbol, carrying the smoothed gain and loss.

    It repeats pandas' `ewm(alpha=1/window, adjust=False, min_periods=window).mean()` step for step
    (the centre of mass pandas derives from alpha, the weights, the skip when a value equals the mean),
    so each value equals `rsi` on the same bars exactly, not only to rounding. Plain floats per symbol.
    """

    def __init__(self, window: int, n_symbols: int) -> None:
        com = (1.0 - 1 / window) / (1 / window)
        alpha = 1.0 / (1.0 + com)
        self.window = window
        self.previous = [math.nan] * n_symbols  # the last close
        self.gain = [_WilderMean(alpha) for _ in range(n_symbols)]
        self.loss = [_WilderMean(alpha) for _ in range(n_symbols)]

    def update(self, close: np.ndarray) -> np.ndarray:
        """Take the next bar's closes (symbols,) and return the RSI at that bar (NaN before a window is full)."""
        values = []
        for s, price in enumerate(close.tolist()):
            change = price - self.previous[s]
            self.previous[s] = price
            gain = self.gain[s].update(change if not change < 0 else 0.0)  # NaN stays NaN, as pandas' clip
            loss = self.loss[s].update(-(change if not change > 0 else 0.0))
            if self.gain[s].observations < self.window:
                values.append(math.nan)
            elif loss == 0:
                values.append(100.0 if gain > 0 else math.nan)  # numpy: gain/0 = inf -> 100; 0/0 = NaN
            else:
                values.append(100 - 100 / (1 + gain / loss))
        return np.array(values, dtype="float64")


class _WilderMean:
    """One column's state in pandas' ewm mean with adjust=False (its `ewm` kernel, normalised weights)."""

    def __init__(self, alpha: float) -> None:
        self.alpha, self.decay = alpha, 1.0 - alpha
        self.mean, self.weight, self.observations = math.nan, 1.0, 0

    def update(self, value: float) -> float:
        observed = value == value
        self.observations += observed
        if self.mean == self.mean:
            self.weight *= self.decay  # over a missing value too (ignore_na=False)
            if observed:
                if self.mean != value:
                    self.mean = (self.weight * self.mean + self.alpha * value) / (self.weight + self.alpha)
                self.weight = 1.0
        elif observed:
            self.mean = value
        return self.mean


class RollingMean:
    """`sma` one bar at a time, for one window and every symbol, carrying pandas' running sums.

    A rolling mean's last bits depend on every value the window ever held (pandas adds and removes
    values from compensated running sums), so no window recomputed from scratch equals it everywhere;
    this repeats pandas' `rolling(window).mean()` step for step (separate compensations for adds and
    removes, the count of equal values in a row, the sign guards) and equals `sma` exactly. Plain
    floats per symbol: for the few symbols of a session they cost less than numpy's per-call overhead.
    """

    def __init__(self, window: int, n_symbols: int) -> None:
        self.window = window
        self.sums = [_RunningSum() for _ in range(n_symbols)]

    def update(self, values: np.ndarray, t: int) -> np.ndarray:
        """Take row t of values (bars, symbols), rows 0..t-1 taken before; return the mean at t."""
        leaving = values[t - self.window].tolist() if t >= self.window else None
        entering = values[t].tolist()
        means = []
        for s, running in enumerate(self.sums):
            if leaving is not None:
                running.remove(leaving[s])
            running.add(entering[s])
            means.append(running.mean(self.window))
        return np.array(means, dtype="float64")


class _RunningSum:
    """One column's state in pandas' rolling mean (roll_mean's add_mean, remove_mean and calc_mean)."""

    def __init__(self) -> None:
        self.total = self.added = self.removed = 0.0
        self.count = self.negative = self.same = 0
        self.previous: float | None = None  # the last value added

    def add(self, value: float) -> None:
        if value != value:  # NaN: not an observation
            return
        if self.previous is None:
            self.previous = value
        step = value - self.added
        total = self.total + step
        self.added = total - self.total - step
        self.total = total
        self.count += 1
        self.negative += math.copysign(1.0, value) < 0
        self.same = self.same + 1 if value == self.previous else 1
        self.previous = value

    def remove(self, value: float) -> None:
        if value != value:
            return
        step = -value - self.removed
        total = self.total + step
        self.removed = total - self.total - step
        self.total = total
        self.count -= 1
        self.negative -= math.copysign(1.0, value) < 0

    def mean(self, window: int) -> float:
        if self.count < window or self.count <= 0:
            return math.nan
        if self.same >= self.count:
            return self.previous if self.previous is not None else math.nan
        mean = self.total / self.count
        if self.negative == 0 and mean < 0:
            return 0.0
        if self.negative == self.count and mean > 0:
            return 0.0
        return mean
