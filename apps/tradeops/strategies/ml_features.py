"""Features and labels of the ML strategy, computed from past bars only.

`feature_matrix` returns (bars, symbols, features): the value at bar t uses bars 0..t and nothing
later, so a prefix of the data yields exactly the same rows. `labels` is the one place that looks
ahead (close at t + horizon); its callers only train on a row once that bar has been seen.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from tradeops.data.bars import Bars
from tradeops.strategies.indicators import rsi, sma

FEATURES = (
    "return_1",
    "return_5",
    "return_10",
    "return_20",
    "volatility_10",
    "volatility_20",
    "rsi_14",
    "close_to_sma_10",
    "close_to_sma_50",
    "sma_10_to_sma_50",
    "range_to_close",
    "volume_zscore_20",
)
# Bars before every feature is defined: the 50-bar average needs 50, the 20-bar volatility 21.
WARMUP = 50
FEATURE_HASH = "sha256:" + hashlib.sha256("\n".join(FEATURES).encode()).hexdigest()


def _window(values: np.ndarray, window: int, fn: str) -> np.ndarray:
    rolling = pd.DataFrame(values).rolling(window)
    return np.asarray(getattr(rolling, fn)(), dtype="float64")


def feature_matrix(bars: Bars) -> np.ndarray:
    """Return every feature at every bar and symbol; undefined values (warm-up, flat volume) are NaN."""
    close = bars.close
    log_close = np.log(close)
    step = np.full_like(log_close, np.nan)
    step[1:] = np.diff(log_close, axis=0)

    def ago(k: int) -> np.ndarray:
        out = np.full_like(log_close, np.nan)
        out[k:] = log_close[k:] - log_close[:-k]
        return out

    sma_10 = sma(close, np.array([10]))[:, :, 0]
    sma_50 = sma(close, np.array([50]))[:, :, 0]
    volume_mean = _window(bars.volume, 20, "mean")
    volume_std = _window(bars.volume, 20, "std")
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = [
            ago(1),
            ago(5),
            ago(10),
            ago(20),
            _window(step, 10, "std"),
            _window(step, 20, "std"),
            rsi(close, np.array([14]))[:, :, 0] / 100,
            close / sma_10 - 1,
            close / sma_50 - 1,
            sma_10 / sma_50 - 1,
            (bars.high - bars.low) / close,
            (bars.volume - volume_mean) / volume_std,
        ]
    matrix = np.stack(columns, axis=-1)
    matrix[~np.isfinite(matrix)] = np.nan
    return matrix


def labels(close: np.ndarray, horizon: int) -> np.ndarray:
    """Return 1.0 where close rises over the next `horizon` bars, 0.0 where not, NaN where unknown yet."""
    out = np.full(close.shape, np.nan)
    out[:-horizon] = (close[horizon:] > close[:-horizon]).astype("float64")
    return out
