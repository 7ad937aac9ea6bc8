"""Plain numba loops for the glue benchmark's floor (`startup.case_per_bar_point`): a moving-average cross,
all-in fills, no costs, no order core, no metrics, over the same bars and points as the grid.

`cross_loop` is the benchmark's loop since issue 14: it reads the grid's signal arrays (bars, symbols,
points) with the bars innermost, one byte per cache line. `contiguous_cross_loop` is the same loop over a
(points, symbols, bars) copy of the same signals, so memory order is not what it measures; its signals are
computed outside its time. `marked_cross_loop` does more of the kernel's work from the kernel's own
inputs: it crosses the per-window averages itself and marks the portfolio's equity and drawdown every bar.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def cross_loop() -> Callable[..., float]:
    """A moving-average cross with all-in fills and no costs: the floor a numba loop reaches per bar-point."""
    from numba import njit, prange

    @njit(cache=False, parallel=True)
    def loop(close: np.ndarray, up: np.ndarray, down: np.ndarray) -> float:
        n_bars, n_symbols, n_points = up.shape
        total = 0.0
        for p in prange(n_points):
            for s in range(n_symbols):
                cash, units = 1.0, 0.0
                for t in range(1, n_bars):
                    price = close[t, s]
                    if units == 0.0 and up[t - 1, s, p]:
                        units, cash = cash / price, 0.0
                    elif units > 0.0 and down[t - 1, s, p]:
                        cash, units = units * price, 0.0
                total += cash + units * close[n_bars - 1, s]
        return total

    return loop


def contiguous_cross_loop() -> Callable[..., float]:
    """`cross_loop` over close (symbols, bars) and signals (points, symbols, bars): each point's bars in a row."""
    from numba import njit, prange

    @njit(cache=False, parallel=True)
    def loop(close: np.ndarray, up: np.ndarray, down: np.ndarray) -> float:
        n_points, n_symbols, n_bars = up.shape
        total = 0.0
        for p in prange(n_points):
            for s in range(n_symbols):
                cash, units = 1.0, 0.0
                for t in range(1, n_bars):
                    price = close[s, t]
                    if units == 0.0 and up[p, s, t - 1]:
                        units, cash = cash / price, 0.0
                    elif units > 0.0 and down[p, s, t - 1]:
                        cash, units = units * price, 0.0
                total += cash + units * close[s, n_bars - 1]
        return total

    return loop


def marked_cross_loop() -> Callable[..., float]:
    """From the per-window averages (windows, bars, symbols) and each point's two indices: the crossing, the
    all-in fills and the portfolio's equity at every bar with its largest drawdown (summed over points)."""
    from numba import njit, prange

    @njit(cache=False, parallel=True)
    def loop(close: np.ndarray, series: np.ndarray, fast_of: np.ndarray, slow_of: np.ndarray) -> float:
        n_bars, n_symbols = close.shape
        worst = np.zeros(fast_of.shape[0])
        for p in prange(fast_of.shape[0]):
            fast, slow = series[fast_of[p]], series[slow_of[p]]
            cash, units = np.ones(n_symbols), np.zeros(n_symbols)
            peak = float(n_symbols)
            for t in range(2, n_bars):
                equity = 0.0
                for s in range(n_symbols):
                    up = (fast[t - 2, s] < slow[t - 2, s]) & (fast[t - 1, s] > slow[t - 1, s])
                    down = (fast[t - 2, s] > slow[t - 2, s]) & (fast[t - 1, s] < slow[t - 1, s])
                    if units[s] == 0.0 and up:
                        units[s], cash[s] = cash[s] / close[t, s], 0.0
                    elif units[s] > 0.0 and down:
                        cash[s], units[s] = units[s] * close[t, s], 0.0
                    equity += cash[s] + units[s] * close[t, s]
                peak = max(peak, equity)
                worst[p] = max(worst[p], 1.0 - equity / peak)
        return worst.sum()

    return loop
