"""Tearsheet numbers on hand-checked curves, and display decimation that keeps every extreme."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeops.reports import statistics
from tradeops.reports.charts import MAX_POINTS, decimate


def trades(pnls: list[float], days: list[int]) -> pd.DataFrame:
    entry = pd.Timestamp("2024-01-01")
    return pd.DataFrame(
        {
            "symbol": "X",
            "entry_time": [entry] * len(pnls),
            "exit_time": [entry + pd.Timedelta(days=d) for d in days],
            "pnl": pnls,
            "return_pct": [p / 10 for p in pnls],
        }
    )


@pytest.mark.req("DC-20")
def test_dc_20_extra_metrics_match_their_definitions_on_a_known_curve():
    equity = pd.Series([100.0, 110.0, 99.0, 108.9, 108.9], index=pd.date_range("2024-01-01", periods=5))
    values = statistics.extra_metrics(equity, trades([30, -10, 20, -10, -10], [1, 2, 3, 4, 10]), 252)
    assert values["omega"] == pytest.approx(0.2 / 0.1)  # gains 0.1 + 0.1 over the one loss of 0.1
    assert values["recovery_factor"] == pytest.approx(8.9 / 11.0)  # net 8.9, worst fall 110 -> 99
    assert values["var_95_pct"] == pytest.approx(-np.quantile([0.1, -0.1, 0.1, 0.0], 0.05) * 100)
    assert values["cvar_95_pct"] == pytest.approx(10.0)
    win_rate, payoff = 2 / 5, 25 / 10
    assert values["kelly_pct"] == pytest.approx((win_rate - (1 - win_rate) / payoff) * 100)
    assert (values["best_trade_pct"], values["worst_trade_pct"]) == (3.0, -1.0)
    assert values["avg_trade_duration_days"] == pytest.approx(4.0)
    assert (values["max_consecutive_wins"], values["max_consecutive_losses"]) == (1, 2)
    assert (values["avg_win"], values["avg_loss"]) == (25.0, -10.0)


@pytest.mark.req("DC-20")
def test_dc_20_worst_drawdowns_and_monthly_returns_come_from_every_bar():
    index = pd.date_range("2024-01-31", periods=4, freq="ME")
    equity = pd.Series([100.0, 80.0, 120.0, 90.0], index=index)
    worst = statistics.worst_drawdowns(equity)
    assert [round(d["depth_pct"], 6) for d in worst] == [-25.0, -20.0]
    assert worst[0]["recovered"] is None and worst[1]["recovered"] == index[2]
    months = statistics.monthly_returns(equity)
    assert months.loc[2024, 2] == pytest.approx(-20.0) and months.loc[2024, 3] == pytest.approx(50.0)
    assert np.isnan(months.loc[2024, 12])


@pytest.mark.req("DC-20")
def test_dc_20_decimation_keeps_each_buckets_minimum_and_maximum():
    rng = np.random.default_rng(7)
    values = rng.normal(size=200_000).cumsum()
    values[123_457], values[98_765] = 1e6, -1e6  # one-bar spikes no stride sampling would hit
    series = pd.Series(values, index=pd.date_range("2000-01-01", periods=len(values), freq="min"))
    shown = decimate(series)
    assert len(shown) <= MAX_POINTS + 2 and shown.index.is_monotonic_increasing
    assert shown.max() == 1e6 and shown.min() == -1e6
    assert shown.iloc[0] == values[0] and shown.iloc[-1] == values[-1]
    assert decimate(series.head(50)).equals(series.head(50))
