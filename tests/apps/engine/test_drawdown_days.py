"""The longest drawdown's duration in days is its calendar span, not its bars times the average spacing."""

from __future__ import annotations

import pytest

from tradeops.engine import ExecutionSettings, run_backtest, run_grid
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params


def longest_span_days(equity) -> float:
    """Calendar days from a peak to the bar that regains it (or the last bar), longest of all."""
    values, times = equity.to_numpy(), equity.index
    peak, peak_bar, longest = values[0], 0, 0.0
    for t, value in enumerate(values):
        span = (times[t] - times[peak_bar]).total_seconds() / 86400
        if value >= peak:
            longest = max(longest, span if t - peak_bar > 1 else 0.0)
            peak, peak_bar = value, t
        else:
            longest = max(longest, span)
    return longest


@pytest.mark.req("DC-69")
def test_dc_69_max_drawdown_duration_days_is_the_calendar_span(goog):
    strategy = get_strategy("sma_cross")
    point = validate_params(strategy, {"fast": 10, "slow": 30})
    result = run_backtest(strategy, point, goog, ExecutionSettings())
    expected = longest_span_days(result.equity)
    assert expected > 0 and result.metrics["max_drawdown_duration_days"] == pytest.approx(expected, abs=1e-9)
    assert float(run_grid(strategy, [point], goog, ExecutionSettings())["max_drawdown_duration_days"].iloc[0]) == (
        pytest.approx(expected, abs=1e-9)
    )
    bars_times_spacing = result.metrics["max_drawdown_duration_bars"] / goog.bars_per_year() * 365.25
    assert bars_times_spacing != pytest.approx(expected, abs=0.5)  # the old formula, a weekend or holiday off
