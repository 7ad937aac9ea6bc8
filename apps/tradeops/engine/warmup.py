"""Compile the kernel for the one signature every run uses, so later processes load it from cache.

Both variants of each compiled loop: the parallel one (grids) and its serial twin (one backtest).
"""

from __future__ import annotations

import numpy as np

from tradeops.data import load_bars
from tradeops.engine.backtest import run_backtest, run_grid
from tradeops.engine.settings import ExecutionSettings
from tradeops.strategies import get_strategy, rolling


def warm() -> None:
    """Run one tiny backtest, a one-point and a two-point grid, and both rolling means."""
    bars = load_bars("sample:synthetic?bars=60")
    strategy = get_strategy("sma_cross")
    point = strategy.Params.model_validate({"fast": 3, "slow": 8})
    run_backtest(strategy, point, bars, ExecutionSettings())
    run_grid(strategy, [point], bars, ExecutionSettings())
    run_grid(strategy, [point, strategy.Params.model_validate({"fast": 4, "slow": 9})], bars, ExecutionSettings())
    windows, values = np.array([3, 8]), np.ascontiguousarray(bars.close, dtype=np.float64)
    rolling.rolling_means(values, windows, np.empty((2, *values.shape)))  # grids past PARALLEL_MIN_CELLS
