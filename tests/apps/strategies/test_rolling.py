"""The compiled moving averages equal pandas' `rolling(window).mean()` bit for bit (DC-18: indicators at the
kernel's speed). The last bits matter: two averages a rounding apart decide a crossing on flat prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeops.data import load_bars
from tradeops.strategies.indicators import sma
from tradeops.strategies.rolling import sma_stack

WINDOWS = np.array([1, 2, 3, 5, 14, 50, 200, 5000])  # 5000: longer than most inputs (all NaN)


def inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    ties = np.round(rng.normal(size=(3000, 6)), 1)
    ties[rng.random(ties.shape) < 0.05] = np.nan
    flat = np.concatenate([np.full(30, 5.0), np.arange(6.0, 44.0), np.full(20, 43.0)])[:, None]
    signs = rng.choice([-0.0, 0.0, -1e-300, 1e-300, 1.0, -1.0, np.nan, 1e16, -1e16, 3.0], size=(4000, 4))
    late = np.full((60, 2), np.nan)
    late[10:25] = 1.0
    goog, eurusd = load_bars("sample:GOOG"), load_bars("sample:EURUSD")
    return {
        "GOOG close": goog.close,
        "GOOG volume": goog.volume,
        "EURUSD close": eurusd.close,  # flat hours: runs of equal prices
        "synthetic, 20 symbols": load_bars("sample:synthetic?symbols=20&bars=2520").close,
        "ties and gaps": ties,
        "flat, rising, flat": flat,
        "signed zeros, tiny and huge values": signs,  # -0.0 counts as negative, as pandas' sign bit does
        "large offset": rng.normal(size=(2000, 3)) * 1e8 + 1e9,
        "values only mid-way": late,
    }


@pytest.mark.req("DC-18")
@pytest.mark.parametrize("name", list(inputs()))
def test_dc_18_compiled_moving_averages_equal_pandas_bit_for_bit(name):
    values = inputs()[name]
    stack, index = sma_stack(values, np.concatenate([WINDOWS, WINDOWS[::-1]]))
    assert stack.shape == (len(WINDOWS), *values.shape)  # each distinct window once
    for k, window in enumerate(np.concatenate([WINDOWS, WINDOWS[::-1]]).tolist()):
        expected = pd.DataFrame(values).rolling(window).mean().to_numpy()
        assert np.array_equal(stack[index[k]], expected, equal_nan=True), f"{name}, window {window}"
    broadcast = sma(values, np.array([3, 14, 3]))
    assert broadcast.shape == (*values.shape, 3)
    assert np.array_equal(broadcast[:, :, 2], pd.DataFrame(values).rolling(3).mean().to_numpy(), equal_nan=True)


@pytest.mark.req("DC-18")
def test_dc_18_a_moving_average_needs_a_window_of_at_least_one_bar():
    with pytest.raises(ValueError, match="at least 1 bar"):
        sma_stack(np.ones((10, 1)), np.array([3, 0]))
