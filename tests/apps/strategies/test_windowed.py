"""A strategy's windowed form (what the trader computes each bar) equals the full computation on every prefix."""

from __future__ import annotations

import numpy as np
import pytest

from tradeops.data import load_bars
from tradeops.strategies import STRATEGIES, get_strategy
from tradeops.strategies.base import lookback, table_from_points

WINDOWED = {"sma_cross": {"fast": 5, "slow": 20}, "donchian_breakout": {"entry_window": 20, "exit_window": 10}}


@pytest.mark.req("DC-18")
@pytest.mark.parametrize("name", sorted(WINDOWED))
def test_dc_18_windowed_signals_equal_the_full_computation_on_every_prefix(name, goog):
    strategy = get_strategy(name)
    point = strategy.Params.model_validate(WINDOWED[name])
    bars_per_window = lookback(strategy, point)
    assert bars_per_window is not None
    table = table_from_points([point])
    for bars in (goog.head(900), load_bars("sample:synthetic?symbols=3&bars=300")):
        full = strategy.signals(bars, table).as_tuple()  # causal: row t is what head(t + 1) gives at t
        for t in range(bars.n_bars):
            window = strategy.signals(bars.slice(max(0, t + 1 - bars_per_window), t + 1), table).as_tuple()
            for whole, windowed in zip(full, window, strict=True):
                assert np.array_equal(whole[t], windowed[-1]), f"{name}: bar {t} differs"
        assert full[0].any() and full[1].any()  # the check saw entries and exits


@pytest.mark.req("DC-18")
def test_dc_18_strategies_with_a_recursive_state_see_their_whole_history():
    without = {name for name, strategy in STRATEGIES.items() if not hasattr(strategy, "lookback")}
    assert without == {"rsi_reversion", "ml_classifier"}
    for name in without:
        strategy = STRATEGIES[name]
        assert lookback(strategy, strategy.Params()) is None
