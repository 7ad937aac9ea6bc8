"""Simple moving averages of many windows at once, compiled, equal to pandas' `rolling(window).mean()` bit for bit.

A rolling mean's last bits depend on every value its window ever held: pandas adds and removes values
from compensated running sums (a separate compensation for adds and for removes), counts the equal values
in a row (a run of one value averages to exactly that value) and guards the sign. This repeats those steps,
as `indicators.RollingMean` does one bar at a time for the trader, over a whole (bars, symbols) array for
each window; `tests/apps/strategies/test_rolling.py` proves it equal to pandas. Compiled by numba and cached
on disk; imported on first use, so importing the strategies does not load numba.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from tradeops.engine.serial import serial_twin

PARALLEL_MIN_CELLS = 250_000  # below this many (window, bar, symbol) cells, about 1 ms of work, threads cost more


@njit(cache=True)
def _one_column(values, window, s, out):
    """out[t, s] = the mean of values[t - window + 1 .. t, s] (NaN until `window` values are observed)."""
    total = added = removed = 0.0  # the sum and the compensations of its adds and of its removes
    count = negative = same = 0  # observations, negative ones, equal ones in a row
    previous = math.nan  # the last value added
    for t in range(values.shape[0]):
        if t >= window:
            leaving = values[t - window, s]
            if leaving == leaving:  # NaN is no observation
                step = -leaving - removed
                after = total + step
                removed = after - total - step
                total = after
                count -= 1
                if math.copysign(1.0, leaving) < 0:  # the sign bit: -0.0 counts as negative, as in pandas
                    negative -= 1
        value = values[t, s]
        if value == value:
            step = value - added
            after = total + step
            added = after - total - step
            total = after
            count += 1
            if math.copysign(1.0, value) < 0:
                negative += 1
            same = same + 1 if value == previous else 1
            previous = value
        if count < window or count <= 0:
            out[t, s] = math.nan
        elif same >= count:
            out[t, s] = previous
        else:
            mean = total / count
            if (negative == 0 and mean < 0) or (negative == count and mean > 0):
                mean = 0.0
            out[t, s] = mean


@njit(cache=True, parallel=True)
def rolling_means(values, windows, out):
    """Fill out[k] (bars, symbols) with the rolling mean of `values` (bars, symbols) over windows[k] bars."""
    n_symbols = values.shape[1]
    for job in prange(windows.shape[0] * n_symbols):
        k, s = job // n_symbols, job % n_symbols
        _one_column(values, windows[k], s, out[k])


rolling_means_serial = serial_twin(rolling_means, "rolling_means_serial")


def sma_stack(values: np.ndarray, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct windows, bars, symbols) rolling means, each distinct window once, and each window's index."""
    unique, inverse = np.unique(np.asarray(windows, dtype=np.int64), return_inverse=True)
    if unique.size and unique[0] < 1:
        raise ValueError(f"a moving average needs a window of at least 1 bar, not {unique[0]}")
    values = np.ascontiguousarray(values, dtype=np.float64)
    out = np.empty((unique.size, *values.shape))
    fill = rolling_means if out.size >= PARALLEL_MIN_CELLS else rolling_means_serial
    fill(values, unique, out)
    return out, inverse.reshape(-1)
