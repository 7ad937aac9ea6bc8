"""Walk-forward evaluation: windows, choice on the train window, out-of-sample tests, stitching."""

from __future__ import annotations

import numpy as np
import pytest

from tradeops.engine import ExecutionSettings, run_backtest, run_grid
from tradeops.engine.backtest import best_rows
from tradeops.engine.walkforward import fold_windows, walk_forward, walk_forward_to_dict, with_history
from tradeops.errors import ConfigError, DataError
from tradeops.strategies import get_strategy
from tradeops.strategies.base import expand_grid, table_from_points, validate_params

SMA = get_strategy("sma_cross")
GRID = {"fast": [5, 10, 20], "slow": [30, 60]}


@pytest.mark.req("DC-13")
def test_dc_13_windows_roll_or_anchor_and_the_remainder_is_tested_too(goog):
    rolling = fold_windows(goog.head(1010), 500, 200, anchored=False)
    assert rolling == [(0, 500, 700), (200, 700, 900), (400, 900, 1010)]
    assert fold_windows(goog.head(1010), 500, 200, anchored=True) == [(0, 500, 700), (0, 700, 900), (0, 900, 1010)]
    assert fold_windows(goog.head(1102), 500, 200, anchored=False)[-1] == (
        400,
        900,
        1102,
    )  # 2 bars left join the last fold
    assert fold_windows(goog.head(700), 500, 200, anchored=False) == [(0, 500, 700)]


@pytest.mark.req("DC-13")
def test_dc_13_windows_that_do_not_fit_the_data_are_refused_clearly(goog):
    with pytest.raises(DataError, match=r"sample:GOOG: 2148 bars cannot hold one fold of 2000 train \+ 200 test bars"):
        fold_windows(goog, 2000, 200, anchored=False)
    with pytest.raises(ConfigError, match="at least 3 bars"):
        fold_windows(goog, 500, 2, anchored=False)


@pytest.mark.req("DC-13")
@pytest.mark.parametrize("anchored", [False, True])
def test_dc_13_each_fold_tests_the_point_that_won_its_train_window(goog, anchored):
    settings = ExecutionSettings(commission=0.001)
    points, _ = expand_grid(SMA, {}, GRID)
    done: list[int] = []
    result = walk_forward(
        SMA, points, goog, settings, train_bars=600, test_bars=300, anchored=anchored, progress=done.append
    )
    windows = fold_windows(goog, 600, 300, anchored)
    assert len(result.folds) == len(windows) == 6 and sum(done) == 6 * (len(points) + 1)
    for fold in result.folds:
        start, stop = fold.train
        table = run_grid(with_history(SMA, goog, start), points, goog.slice(start, stop), settings)
        assert fold.params == points[int(best_rows(table, "sharpe", 1).index[0])]
        assert fold.train_metrics["sharpe"] == table["sharpe"].max()
        assert (fold.train[0], *fold.test) == windows[fold.number - 1]
        assert fold.result.bars.index[0] == goog.index[fold.test[0]]
        assert fold.result.bars.n_bars == fold.test[1] - fold.test[0]
    assert result.folds[0].train == (0, 600)
    assert result.folds[1].train == ((0, 900) if anchored else (300, 900))


@pytest.mark.req("DC-13", "DC-10")
def test_dc_13_dc_10_a_test_window_sees_its_history_but_trades_only_inside_it(goog):
    params = validate_params(SMA, {"fast": 10, "slow": 60})
    warm = run_backtest(with_history(SMA, goog, 1000), params, goog.slice(1000, 1300), ExecutionSettings())
    full = SMA.signals(goog, table_from_points([params]))
    inside = SMA.signals(goog.slice(1000, 1300), table_from_points([params]))
    assert warm.trades["entry_time"].min() >= goog.index[1001]
    assert not inside.entries[:59].any()  # cold: the 60-bar average is undefined at first
    np.testing.assert_array_equal(
        with_history(SMA, goog, 1000).signals(goog.slice(1000, 1300), table_from_points([params])).entries,
        full.entries[1000:1300],
    )


@pytest.mark.req("DC-13")
def test_dc_13_out_of_sample_results_are_stitched_by_compounding(goog):
    points, _ = expand_grid(SMA, {}, GRID)
    result = walk_forward(SMA, points, goog, ExecutionSettings(), train_bars=500, test_bars=400)
    starts = [fold.result.settings.cash for fold in result.folds]
    ends = [float(fold.result.equity.iloc[-1]) for fold in result.folds]
    assert starts == [10_000, *ends[:-1]]
    assert result.metrics["total_return_pct"] == pytest.approx((ends[-1] / 10_000 - 1) * 100)
    assert len(result.equity) == goog.n_bars - 500 and result.equity.index.is_monotonic_increasing
    assert (
        result.metrics["trades"]
        == len(result.trades)
        == sum(len(f.result.trades) + len(f.result.open_trades) for f in result.folds)
    )
    oos = goog.slice(500, goog.n_bars)
    shares = 10_000 // oos.close[0, 0]  # whole shares bought with the initial cash at the first close
    held = 10_000 + shares * (oos.close[-1, 0] - oos.close[0, 0])
    assert result.metrics["buy_and_hold_return_pct"] == pytest.approx((held / 10_000 - 1) * 100)
    payload = walk_forward_to_dict(result)
    assert payload["oos"]["final_equity"] == pytest.approx(ends[-1])
    assert [f["params"] for f in payload["folds"]] == [f.params.model_dump() for f in result.folds]
    assert payload["folds"][0]["test"] == {"start": "2006-08-14T00:00:00", "end": "2008-03-17T00:00:00", "bars": 400}


@pytest.mark.req("DC-13")
def test_dc_13_ml_classifier_walks_forward_on_real_data_with_a_threshold_grid(goog):
    ml = get_strategy("ml_classifier")
    points, _ = expand_grid(ml, {"train_bars": 200}, {"threshold": [0.52, 0.56, 0.6]})
    result = walk_forward(ml, points, goog, ExecutionSettings(), train_bars=700, test_bars=500)
    assert [f.test for f in result.folds] == [(700, 1200), (1200, 1700), (1700, 2148)]
    assert {f.params.threshold for f in result.folds} <= {0.52, 0.56, 0.6}
    assert result.metrics["trades"] > 0 and np.isfinite(result.metrics["sharpe"])
