"""Strategies: parameter rules, grids, neighbours, and no lookahead."""

from __future__ import annotations

import numpy as np
import pytest

from tradeops.errors import ConfigError
from tradeops.gate.checks import lookahead_check
from tradeops.strategies import STRATEGIES, get_strategy
from tradeops.strategies.base import Signals, expand_grid, neighbours, table_from_points, validate_params
from tradeops.strategies.sma_cross import SmaCross


@pytest.mark.req("DC-10")
@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("sma_cross", {"fast": 20, "slow": 10}, r"fast \(20\) must be less than slow \(10\)"),
        ("sma_cross", {"fast": 1}, "fast: Input should be greater than or equal to 2"),
        ("sma_cross", {"fats": 5}, "fats: Extra inputs are not permitted"),
        ("rsi_reversion", {"lower": 80, "upper": 20}, r"lower \(80.0\) must be less than upper"),
        ("donchian_breakout", {"entry_window": 10, "exit_window": 20}, "must not exceed entry_window"),
        ("sma_cross", {"fast": "ten"}, "fast: Input should be a valid integer"),
    ],
)
def test_dc_10_invalid_parameters_name_the_field_and_rule(name, params, message):
    with pytest.raises(ConfigError, match=message):
        validate_params(get_strategy(name), params)


@pytest.mark.req("DC-10")
def test_dc_10_unknown_strategy_lists_the_known_ones():
    with pytest.raises(ConfigError, match="strategies: sma_cross, rsi_reversion, donchian_breakout"):
        get_strategy("magic")


@pytest.mark.req("DC-11")
def test_dc_11_grid_expansion_keeps_valid_points_in_order():
    points, invalid = expand_grid(SmaCross(), {}, {"fast": list(range(5, 51, 5)), "slow": list(range(20, 201, 10))})
    assert (len(points), invalid) == (174, 16)
    assert points[0].model_dump() == {"fast": 5, "slow": 20}
    with pytest.raises(ConfigError, match="no parameter"):
        expand_grid(SmaCross(), {"speed": 1}, {"fast": [5]})


@pytest.mark.req("DC-10")
def test_dc_10_neighbours_step_each_parameter_and_respect_rules():
    strategy = SmaCross()
    found = {(p.fast, p.slow) for p in neighbours(strategy, validate_params(strategy, {"fast": 10, "slow": 11}))}
    assert found == {(9, 11), (10, 13)}  # fast+1 == slow and slow-2 < fast are invalid


@pytest.mark.req("DC-10")
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_dc_10_every_strategy_passes_the_lookahead_check_on_real_and_multi_symbol_data(name, goog):
    from tradeops.data import load_bars

    strategy = get_strategy(name)
    defaults = validate_params(strategy, {})
    for bars in (goog, load_bars("sample:synthetic?symbols=3&bars=400")):
        check = lookahead_check(strategy, defaults, bars, cuts=25)
        assert check.passed, check.detail
        signals = strategy.signals(bars, table_from_points([defaults]))
        assert signals.entries.shape == (bars.n_bars, bars.n_symbols, 1)
        assert signals.entries.any() and signals.exits.any()


class Peeking(SmaCross):
    """A broken strategy that decides on tomorrow's close."""

    def signals(self, bars, params):
        honest = super().signals(bars, params)
        tomorrow_up = np.zeros_like(honest.entries)
        tomorrow_up[:-1] = (bars.close[1:] > bars.close[:-1])[:, :, None]
        return Signals(tomorrow_up, ~tomorrow_up, honest.short_entries, honest.short_exits)


@pytest.mark.req("DC-10")
def test_dc_10_lookahead_check_catches_a_strategy_that_peeks(goog):
    check = lookahead_check(Peeking(), validate_params(SmaCross(), {}), goog, cuts=10)
    assert not check.passed
    assert check.value > 0
    assert "first mismatch" in check.detail


@pytest.mark.req("DC-10")
def test_dc_10_param_schema_documents_units_and_steps():
    schema = get_strategy("rsi_reversion").Params.model_json_schema()
    assert schema["properties"]["window"]["description"].startswith("RSI smoothing window")
    assert schema["properties"]["lower"]["step"] == 2.5
