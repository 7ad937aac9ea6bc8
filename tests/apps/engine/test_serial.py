"""One backtest runs the serial compiled loops, and they give exactly what the parallel ones give (issue 27 item 9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.apps.strategies.test_rolling import WINDOWS, inputs
from tradeops.data import load_bars
from tradeops.engine import ExecutionSettings, kernel, run_backtest, run_grid
from tradeops.strategies import get_strategy, rolling
from tradeops.strategies.base import validate_params

POINTS = {
    "sma_cross": [{"fast": 10, "slow": 30}, {"fast": 5, "slow": 20}],
    "rsi_reversion": [{"window": 14, "lower": 30, "upper": 70}, {"window": 7, "lower": 25, "upper": 75}],
    "donchian_breakout": [{"entry_window": 20, "exit_window": 10}, {"entry_window": 40, "exit_window": 15}],
}
SETTINGS = {
    "long only": ExecutionSettings(commission=0.001, slippage=0.0005),
    "long and short, whole units": ExecutionSettings(direction="long_short", lot_size=1, commission=0.002),
}
DATA = {"GOOG, 600 bars": "sample:GOOG", "synthetic, 3 symbols": "sample:synthetic?symbols=3&bars=900"}


def _refuse(*_: object) -> None:
    raise AssertionError("the parallel compiled loop ran for one backtest")


def _bars(data: str):
    bars = load_bars(data)
    return bars.head(600) if "GOOG" in data else bars


@pytest.mark.req("DC-61")
@pytest.mark.parametrize("strategy", list(POINTS))
def test_dc_61_one_backtest_and_a_one_point_grid_never_run_the_parallel_loops(monkeypatch, strategy):
    monkeypatch.setattr(kernel, "simulate", _refuse)
    monkeypatch.setattr(rolling, "rolling_means", _refuse)
    chosen, bars = get_strategy(strategy), _bars("sample:GOOG")
    point = validate_params(chosen, POINTS[strategy][0])
    result = run_backtest(chosen, point, bars, ExecutionSettings())
    table = run_grid(chosen, [point], bars, ExecutionSettings())
    assert table["total_return_pct"].iloc[0] == result.metrics["total_return_pct"]
    assert table["trades"].iloc[0] == result.metrics["trades"] > 0


def _forced_parallel(monkeypatch) -> None:
    monkeypatch.setattr(kernel, "simulate_serial", kernel.simulate)
    monkeypatch.setattr(rolling, "rolling_means_serial", rolling.rolling_means)


@pytest.mark.req("DC-61")
@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("settings", list(SETTINGS))
@pytest.mark.parametrize("strategy", list(POINTS))
def test_dc_61_the_serial_backtest_equals_the_parallel_one_exactly(monkeypatch, strategy, settings, data):
    chosen, bars, execution = get_strategy(strategy), _bars(DATA[data]), SETTINGS[settings]
    point = validate_params(chosen, POINTS[strategy][0])
    serial = run_backtest(chosen, point, bars, execution)
    with monkeypatch.context() as patched:
        _forced_parallel(patched)
        parallel = run_backtest(chosen, point, bars, execution)
    assert serial.metrics == pytest.approx(parallel.metrics, rel=0, abs=0, nan_ok=True)
    pd.testing.assert_series_equal(serial.equity, parallel.equity, check_exact=True)
    pd.testing.assert_frame_equal(serial.trades, parallel.trades, check_exact=True)
    pd.testing.assert_frame_equal(serial.open_trades, parallel.open_trades, check_exact=True)
    assert len(serial.trades) > 0


@pytest.mark.req("DC-61")
@pytest.mark.parametrize("strategy", list(POINTS))
def test_dc_61_a_one_point_grid_equals_its_row_of_a_parallel_grid(strategy):
    chosen, bars = get_strategy(strategy), _bars(DATA["synthetic, 3 symbols"])
    points = [validate_params(chosen, p) for p in POINTS[strategy]]
    both = run_grid(chosen, points, bars, SETTINGS["long only"])  # two points: the parallel loop
    for k, point in enumerate(points):
        one = run_grid(chosen, [point], bars, SETTINGS["long only"])
        pd.testing.assert_frame_equal(one, both.iloc[[k]].reset_index(drop=True), check_exact=True)


@pytest.mark.req("DC-61")
@pytest.mark.parametrize("name", list(inputs()))
def test_dc_61_serial_and_parallel_moving_averages_are_equal_bit_for_bit(monkeypatch, name):
    values = inputs()[name]
    monkeypatch.setattr(rolling, "PARALLEL_MIN_CELLS", 0)
    parallel, _ = rolling.sma_stack(values, WINDOWS)
    monkeypatch.setattr(rolling, "PARALLEL_MIN_CELLS", np.iinfo(np.int64).max)
    serial, _ = rolling.sma_stack(values, WINDOWS)
    assert np.array_equal(serial, parallel, equal_nan=True)
