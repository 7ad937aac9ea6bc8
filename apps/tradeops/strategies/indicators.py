"""Causal indicators broadcast over parameter points.

Each function takes a (bars, symbols) array and an int array of windows (P,) and returns
(bars, symbols, P), computing each distinct window once. Values before a window is full are NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def _per_unique_window(
    values: np.ndarray, windows: np.ndarray, one: Callable[[pd.DataFrame, int], pd.DataFrame]
) -> np.ndarray:
    unique, inverse = np.unique(np.asarray(windows, dtype=np.int64), return_inverse=True)
    frame = pd.DataFrame(values)
    stacked = np.stack([one(frame, int(w)).to_numpy(dtype="float64") for w in unique], axis=-1)
    return stacked[:, :, inverse]


def sma(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Simple moving average of the last `window` values, the current bar included."""
    return _per_unique_window(values, windows, lambda f, w: f.rolling(w).mean())


def rolling_max(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Highest value of the last `window` values, the current bar included."""
    return _per_unique_window(values, windows, lambda f, w: f.rolling(w).max())


def rolling_min(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Lowest value of the last `window` values, the current bar included."""
    return _per_unique_window(values, windows, lambda f, w: f.rolling(w).min())


def rsi(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Wilder's relative strength index (0-100), smoothing gains and losses with alpha = 1/window."""

    def one(frame: pd.DataFrame, window: int) -> pd.DataFrame:
        change = frame.diff()
        gain = change.clip(lower=0).ewm(alpha=1 / window, adjust=False, min_periods=window).mean()
        loss = (-change.clip(upper=0)).ewm(alpha=1 / window, adjust=False, min_periods=window).mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            return 100 - 100 / (1 + gain / loss)

    return _per_unique_window(values, windows, one)


def crossed_above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where `a` was strictly below `b` on the previous bar and is strictly above now."""
    previous = np.zeros_like(a, dtype=bool)
    previous[1:] = a[:-1] < b[:-1]
    return previous & (a > b)


def shift_forward(values: np.ndarray) -> np.ndarray:
    """Return values moved one bar later (first bar NaN): the previous bar's value at each bar."""
    shifted = np.full_like(values, np.nan)
    shifted[1:] = values[:-1]
    return shifted
