"""Engine semantics: fills, costs, sizing, direction, many symbols, grids and metric definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradeops.data import Bars, load_bars
from tradeops.data.bars import FIELDS
from tradeops.engine import ExecutionSettings, run_backtest, run_grid
from tradeops.engine import backtest as backtest_module
from tradeops.engine.settings import Direction, Sizing
from tradeops.errors import DataError
from tradeops.strategies import get_strategy
from tradeops.strategies.base import expand_grid, validate_params

SMA = get_strategy("sma_cross")


def run(bars, settings=None, **params):
    return run_backtest(
        SMA, validate_params(SMA, params or {"fast": 10, "slow": 30}), bars, settings or ExecutionSettings()
    )


@pytest.mark.req("DC-8")
def test_dc_8_fills_happen_at_the_next_bars_open(goog):
    result = run(goog)
    first = result.trades.iloc[0]
    entry_bar = goog.index.get_loc(first["entry_time"])
    assert first["entry_price"] == goog.open[entry_bar, 0]
    assert first["size"] == math.floor(10_000 / goog.open[entry_bar, 0])


@pytest.mark.req("DC-8")
def test_dc_8_costs_reduce_equity_and_are_charged_on_both_fills(goog):
    free = run(goog)
    commission = run(goog, ExecutionSettings(commission=0.001))
    slipped = run(goog, ExecutionSettings(slippage=0.001))
    assert commission.equity.iloc[-1] < free.equity.iloc[-1]
    assert slipped.equity.iloc[-1] < free.equity.iloc[-1]
    trade = commission.trades.iloc[0]
    expected = trade["size"] * (trade["entry_price"] + trade["exit_price"]) * 0.001
    assert trade["fees"] == pytest.approx(expected)
    slip_trade = slipped.trades.iloc[0]
    entry_bar = goog.index.get_loc(slip_trade["entry_time"])
    assert slip_trade["entry_price"] == pytest.approx(goog.open[entry_bar, 0] * 1.001)


@pytest.mark.req("DC-8")
def test_dc_8_fixed_fraction_sizes_each_entry_from_available_cash(goog):
    result = run(goog, ExecutionSettings(sizing=Sizing.FIXED_FRACTION, fraction=0.25))
    first = result.trades.iloc[0]
    assert first["size"] == math.floor(2_500 / first["entry_price"])
    assert result.metrics["max_drawdown_pct"] < run(goog).metrics["max_drawdown_pct"]
    with pytest.raises(ValueError, match="fraction applies to sizing=fixed_fraction only"):
        ExecutionSettings(fraction=0.5)


@pytest.mark.req("DC-8")
def test_dc_8_long_short_reverses_and_short_only_never_buys_first(goog):
    both = run(goog, ExecutionSettings(direction=Direction.LONG_SHORT))
    shorts = both.trades[both.trades["size"] < 0]
    longs = both.trades[both.trades["size"] > 0]
    assert len(shorts) > 0 and len(longs) > 0
    # a short gains when the price falls
    assert ((shorts["exit_price"] < shorts["entry_price"]) == (shorts["pnl"] > 0)).all()
    # reversals: an exit and the next entry happen on the same bar
    assert set(both.trades["exit_time"].iloc[:-1]) & set(both.trades["entry_time"].iloc[1:])
    only_short = run(goog, ExecutionSettings(direction=Direction.SHORT_ONLY))
    assert (only_short.trades["size"] < 0).all()


@pytest.mark.req("DC-8")
def test_dc_8_many_symbols_form_one_portfolio_with_split_cash():
    bars = load_bars("sample:synthetic?symbols=3&bars=500&seed=3")
    together = run(bars)
    per_symbol = []
    for i in range(3):
        one = Bars(
            name="one",
            index=bars.index,
            symbols=(bars.symbols[i],),
            **{f: getattr(bars, f)[:, [i]].copy() for f in FIELDS},
        )
        per_symbol.append(run(one, ExecutionSettings(cash=10_000 / 3)))
    assert together.equity.to_numpy() == pytest.approx(sum(r.equity.to_numpy() for r in per_symbol), rel=1e-12)
    assert together.metrics["trades"] == sum(r.metrics["trades"] for r in per_symbol)
    assert set(together.trades["symbol"]) == set(bars.symbols)


@pytest.mark.req("DC-8")
def test_dc_8_metrics_follow_their_documented_definitions(goog):
    result = run(goog)
    equity = result.equity.to_numpy()
    returns = np.diff(equity) / equity[:-1]
    per_year = goog.bars_per_year()
    metrics = result.metrics
    assert metrics["total_return_pct"] == pytest.approx((equity[-1] / 10_000 - 1) * 100)
    assert metrics["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(per_year))
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    assert metrics["sortino"] == pytest.approx(returns.mean() / downside * math.sqrt(per_year))
    assert metrics["max_drawdown_pct"] == pytest.approx((1 - equity / np.maximum.accumulate(equity)).max() * 100)
    assert metrics["cagr_pct"] == pytest.approx(((equity[-1] / 10_000) ** (1 / goog.years()) - 1) * 100)
    assert metrics["calmar"] == pytest.approx(metrics["cagr_pct"] / metrics["max_drawdown_pct"])
    pnl = result.trades["pnl"].to_numpy()
    assert metrics["trades"] == len(pnl)
    assert metrics["profit_factor"] == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl <= 0].sum())
    assert metrics["win_rate_pct"] == pytest.approx((pnl > 0).mean() * 100)
    assert metrics["expectancy"] == pytest.approx(pnl.mean())
    assert metrics["sqn"] == pytest.approx(math.sqrt(len(pnl)) * pnl.mean() / pnl.std(ddof=1))
    shares = math.floor(10_000 / goog.close[0, 0])  # whole shares, as the strategy buys them; the rest stays cash
    held = 10_000 + shares * (goog.close[-1, 0] - goog.close[0, 0])
    assert metrics["buy_and_hold_return_pct"] == pytest.approx((held / 10_000 - 1) * 100)
    assert metrics["excess_return_pct"] == pytest.approx(
        metrics["total_return_pct"] - metrics["buy_and_hold_return_pct"]
    )
    open_value = result.open_trades["pnl"].sum()
    assert equity[-1] == pytest.approx(10_000 + pnl.sum() + open_value)


@pytest.mark.req("DC-8")
def test_dc_8_no_trades_gives_undefined_not_invented_metrics(goog):
    result = run(goog.head(40), fast=30, slow=39)
    assert result.metrics["trades"] == 0
    assert math.isnan(result.metrics["profit_factor"]) and math.isnan(result.metrics["win_rate_pct"])
    assert result.equity.iloc[-1] == 10_000
    with pytest.raises(DataError, match="at least 3"):
        run(goog.head(2))


@pytest.mark.req("DC-11")
def test_dc_11_grid_points_equal_single_backtests_in_any_chunking(goog, monkeypatch):
    points, _ = expand_grid(SMA, {}, {"fast": [5, 10, 20], "slow": [30, 60]})
    whole = run_grid(SMA, points, goog, ExecutionSettings(commission=0.001))
    monkeypatch.setattr(backtest_module, "CHUNK_CELLS", goog.n_bars * 2)  # two points per chunk
    seen = []
    chunked = run_grid(SMA, points, goog, ExecutionSettings(commission=0.001), progress=seen.append)
    assert seen == [2, 2, 2]
    assert chunked.equals(whole)
    for point, row in zip(points, whole.to_dict("records"), strict=True):
        single = run_backtest(SMA, point, goog, ExecutionSettings(commission=0.001))
        assert row["total_return_pct"] == pytest.approx(single.metrics["total_return_pct"], rel=1e-12)
        assert row["trades"] == single.metrics["trades"]
        assert row["sharpe"] == pytest.approx(single.metrics["sharpe"], rel=1e-9)


@pytest.mark.req("DC-8")
def test_dc_8_compiled_kernel_equals_its_interpreted_source(goog):
    """The numba-compiled loop and its plain-Python source give identical results (and coverage sees the source)."""
    from tradeops.engine import kernel, metrics
    from tradeops.engine.backtest import _kernel_inputs

    bars = goog.head(600)
    params = {"fast": np.array([5]), "slow": np.array([20])}  # record mode: one point

    def simulate(function, source):
        equity = np.zeros((bars.n_bars, 1))
        trades = np.zeros((bars.n_bars + 1, len(kernel.TRADE_FIELDS)))
        inputs = _kernel_inputs(source)
        raw, counts = function(
            bars.open,
            bars.close,
            metrics.elapsed_days(bars.index),
            *inputs,
            10_000.0,
            0.001,
            0.0005,
            1.0,
            kernel.LONG_SHORT,
            1.0,
            2.0,
            True,
            equity,
            trades,
        )
        return raw, counts, equity, trades

    for source in (SMA.signals(bars, params), SMA.crossover(bars, params)):  # signal arrays, series crossed in place
        compiled, interpreted = simulate(kernel.simulate, source), simulate(kernel.simulate.py_func, source)
        for fast, slow in zip(compiled, interpreted, strict=True):
            np.testing.assert_allclose(fast, slow, rtol=1e-12)
        assert compiled[1].sum() > 10


@pytest.mark.req("DC-8")
def test_dc_8_drawdown_duration_counts_to_the_bar_that_regains_the_peak(goog):
    result = run(goog)
    equity = result.equity.to_numpy()
    peak, peak_bar, longest = equity[0], 0, 0
    for t, value in enumerate(equity):
        if value >= peak:
            longest = max(longest, t - peak_bar if t - peak_bar > 1 else 0)
            peak, peak_bar = value, t
        else:
            longest = max(longest, t - peak_bar)
    assert result.metrics["max_drawdown_duration_bars"] == longest


@pytest.mark.req("DC-8")
def test_dc_8_an_entry_and_an_exit_on_the_same_bar_cancel(goog):
    from tradeops.engine.backtest import _simulate
    from tradeops.strategies.base import Signals

    shape = (goog.n_bars, 1, 1)
    entries, exits = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    entries[10] = True
    entries[20] = exits[20] = True  # both: the long opened at bar 11 must stay open
    none = np.zeros(shape, dtype=bool)
    _, counts, _, trades = _simulate(Signals(entries, exits, none, none), goog, ExecutionSettings(), record=True)
    assert counts[0] == 1 and trades[0, 3] == -1  # one trade, still open at the end


@pytest.mark.req("DC-11")
def test_dc_11_best_points_rank_drawdowns_lowest_first_and_returns_highest_first():
    import pandas as pd

    from tradeops.engine.backtest import best_rows

    table = pd.DataFrame(
        {"fast": [5, 10, 20], "sharpe": [0.5, 1.2, float("nan")], "max_drawdown_pct": [30.0, 12.0, 40.0]}
    )
    assert best_rows(table, "max_drawdown_pct", 1)["fast"].tolist() == [10]
    assert best_rows(table, "sharpe", 3)["fast"].tolist() == [10, 5, 20]  # NaN last
