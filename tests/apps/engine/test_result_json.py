"""The result JSON is serialised in bulk (issue 29) and says exactly what `json.dumps` of the same result said."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from tradeops.data import load_bars
from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.engine.result import TRADE_KEYS, equity_points, result_json, result_to_dict
from tradeops.strategies import get_strategy

pytestmark = pytest.mark.req("DC-40")


def run(data: str, fast: int, slow: int, **execution):
    strategy = get_strategy("sma_cross")
    bars = load_bars(data)
    return run_backtest(strategy, strategy.Params(fast=fast, slow=slow), bars, ExecutionSettings(**execution))


def record(row: pd.Series) -> dict:
    """One trade the slow, obvious way: value by value, as the JSON shape documents it."""

    def number(value: float) -> float | None:
        return float(value) if math.isfinite(value) else None

    def time(value: pd.Timestamp) -> str | None:
        return None if pd.isna(value) else value.isoformat()

    return {
        "symbol": row["symbol"],
        "entry_time": time(row["entry_time"]),
        "entry_price": number(row["entry_price"]),
        "exit_time": time(row["exit_time"]),
        "exit_price": number(row["exit_price"]),
        **{name: number(row[name]) for name in TRADE_KEYS[5:]},
    }


def test_dc_40_bulk_json_of_a_real_run_equals_json_dumps_and_value_by_value_records():
    result = run("sample:synthetic?symbols=3&bars=1500", 5, 20, direction="long_short", commission=0.001)
    payload = result_to_dict(result) | {"equity": equity_points(result.equity)}
    assert len(payload["trades"]) > 100 and payload["open_trades"]
    assert json.loads(result_json(payload)) == json.loads(json.dumps(payload, indent=2, allow_nan=False))
    assert payload["trades"] == [record(row) for _, row in result.trades.iterrows()]
    assert payload["open_trades"] == [record(row) for _, row in result.open_trades.iterrows()]
    assert list(payload["trades"][0]) == list(TRADE_KEYS)


def test_dc_40_undefined_metrics_are_null_in_bulk_json_as_before():
    result = run("sample:GOOG", 190, 200)  # too slow to cross more than a couple of times: no losing trade
    payload = result_to_dict(result)
    undefined = [name for name, value in result.metrics.items() if not math.isfinite(value)]
    assert undefined  # the run has NaN or infinite metrics to prove the point on
    parsed = json.loads(result_json(payload))
    assert parsed == json.loads(json.dumps(payload, allow_nan=False))
    assert all(parsed["metrics"][name] is None for name in undefined)
    raw = {"nan": float("nan"), "inf": float("inf"), "minus_inf": -float("inf"), "nested": [float("nan"), 1.5]}
    assert json.loads(result_json(raw)) == {"nan": None, "inf": None, "minus_inf": None, "nested": [None, 1.5]}
