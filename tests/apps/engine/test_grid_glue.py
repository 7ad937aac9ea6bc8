"""The grid's glue: each indicator window once per run, signals compared straight into place, trades to
JSON column by column, and a sweep that says how big it is before it starts."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.apps.cli.test_cli import cli
from tradeops.engine import ExecutionSettings, kernel, run_backtest, run_grid
from tradeops.engine import backtest as backtest_module
from tradeops.engine.backtest import chunk_points, grid_summary
from tradeops.engine.result import _times, _trades, equity_points
from tradeops.strategies import get_strategy, indicators, rolling
from tradeops.strategies.base import expand_grid

SMA = get_strategy("sma_cross")


@pytest.mark.req("DC-18")
def test_dc_18_each_moving_average_window_is_computed_once_per_run_across_chunks(goog, monkeypatch):
    fast, slow = [5, 10, 20, 30], [20, 30, 60, 90]
    points, _ = expand_grid(SMA, {}, {"fast": fast, "slow": slow})
    whole = run_grid(SMA, points, goog, ExecutionSettings())
    calls: list[list[int]] = []

    def counting(original):
        def counted(values, windows, out):
            calls.append(windows.tolist())
            return original(values, windows, out)

        return counted

    for variant in ("rolling_means", "rolling_means_serial"):  # parallel, or serial for small work (DC-61)
        monkeypatch.setattr(rolling, variant, counting(getattr(rolling, variant)))
    monkeypatch.setattr(backtest_module, "CHUNK_CELLS", goog.n_bars * 3)  # three points per chunk
    assert chunk_points(goog) == 3 and len(points) > 3 * 3
    seen: list[int] = []
    chunked = run_grid(SMA, points, goog, ExecutionSettings(), progress=seen.append)
    assert calls == [sorted(set(fast) | set(slow))]  # one computation for the run: every distinct window once
    assert chunked.equals(whole) and sum(seen) == len(points) and set(seen[:-1]) == {3}
    calls.clear()
    run_grid(SMA, points, goog, ExecutionSettings())
    assert calls == [sorted(set(fast) | set(slow))]  # nothing is kept from one run for the next


def crossed_above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The broadcast definition: `a` strictly below `b` on the previous bar and strictly above now."""
    previous = np.zeros_like(a, dtype=bool)
    previous[1:] = a[:-1] < b[:-1]
    return previous & (a > b)


@pytest.mark.req("DC-18")
def test_dc_18_crossings_equal_the_broadcast_comparison_with_ties_and_gaps():
    rng = np.random.default_rng(7)
    values = [np.round(rng.normal(size=(400, 3)), 1) for _ in range(4)]  # rounding makes ties
    for column in values:
        column[rng.random(column.shape) < 0.05] = np.nan
    fast_of, slow_of = np.array([0, 1, 1, 3, 0]), np.array([2, 2, 3, 2, 0])
    up, down = indicators.crossings(values, fast_of, values, slow_of)
    fast = np.stack([values[i] for i in fast_of], axis=-1)
    slow = np.stack([values[j] for j in slow_of], axis=-1)
    assert np.array_equal(up, crossed_above(fast, slow))
    assert np.array_equal(down, crossed_above(slow, fast))
    assert up.any() and down.any() and not up[:, :, 4].any()  # a point crossing itself never crosses


@pytest.mark.req("DC-18")
@pytest.mark.parametrize("direction", ["long_only", "short_only", "long_short"])
def test_dc_18_the_kernel_crossing_series_in_place_equals_it_reading_materialised_signals(direction, goog, eurusd):
    """A crossover grid never materialises its signals: the kernel's own crossing gives every accumulator,
    trade and equity value bit for bit as the signal arrays do, ties (EURUSD's flat hours) and gaps included."""
    from tradeops.data import load_bars
    from tradeops.engine.backtest import _simulate
    from tradeops.strategies.base import Crossover

    settings = ExecutionSettings(direction=direction, commission=0.001, slippage=0.0005)
    many = load_bars("sample:synthetic?symbols=3&bars=500")
    rng = np.random.default_rng(11)
    gappy = np.round(rng.normal(size=(4, many.n_bars, many.n_symbols)), 1)  # rounding makes ties
    gappy[rng.random(gappy.shape) < 0.05] = np.nan
    grid = {"fast": np.array([2, 3, 5, 10, 10]), "slow": np.array([5, 8, 20, 30, 50])}
    cases = [(SMA.crossover(b, grid), b) for b in (goog, eurusd.head(3000), many)]
    cases.append((Crossover(gappy, np.array([0, 1, 1, 3, 2]), np.array([2, 2, 3, 0, 2])), many))
    for crossover, bars in cases:
        raw, _, _, _ = _simulate(crossover, bars, settings, record=False)
        assert np.array_equal(raw, _simulate(crossover.signals(), bars, settings, record=False)[0], equal_nan=True)
        assert raw[:, kernel.CLOSED_TRADES].sum() > 10  # the grid traded
        one = crossover.points(slice(1, 2))  # a single point, recorded
        for in_place, materialised in zip(
            _simulate(one, bars, settings, record=True),
            _simulate(one.signals(), bars, settings, record=True),
            strict=True,
        ):
            assert np.array_equal(in_place, materialised, equal_nan=True)


def _reference_trades(frame: pd.DataFrame) -> list[dict]:
    def number(value):
        return float(value) if math.isfinite(value) else None

    def time(value):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()

    return [
        {
            "symbol": row["symbol"],
            "entry_time": time(row["entry_time"]),
            "entry_price": number(row["entry_price"]),
            "exit_time": time(row["exit_time"]),
            "exit_price": number(row["exit_price"]),
            "size": number(row["size"]),
            "pnl": number(row["pnl"]),
            "return_pct": number(row["return_pct"]),
            "fees": number(row["fees"]),
        }
        for row in frame.to_dict("records")
    ]


@pytest.mark.req("DC-18")
def test_dc_18_trades_become_the_same_json_in_bulk_as_row_by_row(goog):
    result = run_backtest(SMA, SMA.Params(fast=5, slow=20), goog, ExecutionSettings(direction="long_short"))
    assert len(result.trades) > 50 and len(result.open_trades) == 1
    for frame in (result.trades, result.open_trades):
        assert json.dumps(_trades(frame)) == json.dumps(_reference_trades(frame))
    odd = result.trades.head(3).copy()
    odd.loc[0, "return_pct"], odd.loc[1, "pnl"], odd.loc[2, "exit_time"] = np.inf, np.nan, pd.NaT
    assert _trades(odd) == _reference_trades(odd)
    assert _trades(odd.head(0)) == []


@pytest.mark.req("DC-18")
@settings(max_examples=150, deadline=None)
@given(
    seconds=st.lists(st.integers(-2_000_000_000, 4_000_000_000), max_size=40),
    fraction=st.sampled_from([0, 1, 500_000_000, 123_456_000]),
    tz=st.sampled_from([None, "UTC", "America/New_York"]),
    unit=st.sampled_from(["s", "us", "ns"]),
    missing=st.sets(st.integers(0, 39)),
)
def test_dc_18_times_become_the_same_strings_in_bulk_as_isoformat(seconds, fraction, tz, unit, missing):
    stamps = pd.to_datetime(np.array(seconds, dtype="int64") * 10**9 + fraction, unit="ns", utc=tz is not None)
    index = (stamps.tz_convert(tz) if tz is not None else stamps).as_unit(unit if fraction % 1000 == 0 else "ns")
    column = pd.Series(index)
    column[[i for i in missing if i < len(column)]] = pd.NaT
    assert _times(column) == [None if value is pd.NaT else value.isoformat() for value in column]


@pytest.mark.req("DC-18")
def test_dc_18_the_equity_curve_becomes_the_same_points_in_bulk(goog):
    result = run_backtest(SMA, SMA.Params(fast=5, slow=20), goog, ExecutionSettings())
    points = equity_points(result.equity)
    assert points["time"] == [t.isoformat() for t in result.equity.index]
    assert points["value"] == [float(v) for v in result.equity.to_numpy()]
    assert json.loads(json.dumps(points)) == points  # plain lists of str and float


@pytest.mark.req("DC-18")
def test_dc_18_a_sweep_says_its_size_and_an_estimate_before_it_starts(monkeypatch, capsys, goog):
    points, _ = expand_grid(SMA, {}, {"fast": [5, 10], "slow": [20, 30, 40]})
    line = grid_summary(len(points), goog)
    assert line.startswith(f"grid: 6 points x 1 symbol(s) x {goog.n_bars:,} bars = {6 * goog.n_bars:,} bar-points")
    assert "in 1 chunk(s); estimate ~" in line
    args = ("backtest", "sweep", "-s", "sma_cross", "-d", "sample:GOOG", "-g", "fast=5,10", "-g", "slow=20,30,40")
    code, out, err = cli(monkeypatch, capsys, *args, "--json")
    assert code == 0 and json.loads(out)["points"] == 6
    lines = " ".join(err.split())
    assert lines.index("grid: 6 points") < lines.index(" ".join(line.split())) and " ".join(line.split()) in lines
