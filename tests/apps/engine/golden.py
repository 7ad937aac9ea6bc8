"""Metric values of a few grids and backtests, captured bit for bit to prove a kernel change alters no number.

    python -m tests.apps.engine.golden > tests/apps/engine/data/golden_metrics.json

`tests/apps/engine/data/golden_metrics.json` was written by this module on main before issue 29 moved the
kernel's metric totals into local variables; `test_golden.py` recomputes every case and compares each float's
exact bits (`float.hex`; NaN as "nan"). Rewritten once since, for issue 30 (DC-69): `max_drawdown_duration_days`
became the calendar span of the drawdown instead of its bars times the average spacing; a comparison of the two
files showed that key, and no other, changed.
"""

from __future__ import annotations

import json
import math
from typing import Any

from tradeops.data import load_bars
from tradeops.engine import ExecutionSettings, run_backtest, run_grid
from tradeops.strategies import get_strategy
from tradeops.strategies.base import expand_grid

CASES: dict[str, dict[str, Any]] = {
    "sma_cross grid, GOOG, defaults": {
        "strategy": "sma_cross",
        "data": "sample:GOOG",
        "grid": {"fast": list(range(5, 51, 5)), "slow": list(range(20, 201, 10))},
        "execution": {},
    },
    "sma_cross grid, 3 symbols, long_short with costs and half the cash": {
        "strategy": "sma_cross",
        "data": "sample:synthetic?symbols=3&bars=700",
        "grid": {"fast": [3, 5, 8, 13], "slow": [21, 34, 55]},
        "execution": {
            "direction": "long_short",
            "commission": 0.002,
            "slippage": 0.001,
            "sizing": "fixed_fraction",
            "fraction": 0.5,
        },
    },
    "sma_cross grid, 1 symbol, short_only in whole lots with a minimum": {
        "strategy": "sma_cross",
        "data": "sample:synthetic?symbols=1&bars=900&seed=7",
        "grid": {"fast": [4, 9, 16], "slow": [25, 40]},
        "execution": {"direction": "short_only", "commission": 0.001, "lot_size": 1, "min_size": 30, "cash": 4000},
    },
    "rsi_reversion grid (signal arrays), 2 symbols, long_short": {
        "strategy": "rsi_reversion",
        "data": "sample:synthetic?symbols=2&bars=600&seed=3",
        "grid": {"window": [7, 14, 21], "lower": [25, 30]},
        "execution": {"direction": "long_short", "commission": 0.0005},
    },
    "donchian_breakout grid (signal arrays), EURUSD": {
        "strategy": "donchian_breakout",
        "data": "sample:EURUSD",
        "grid": {"entry_window": [10, 20, 40], "exit_window": [5, 10]},
        "execution": {"lot_size": 0},
    },
}


def exact(value: float) -> str:
    return "nan" if math.isnan(value) else float(value).hex()


def compute(case: dict[str, Any]) -> dict[str, Any]:
    """Every metric of every grid point, and of the first point's single backtest with its trades."""
    strategy = get_strategy(case["strategy"])
    bars = load_bars(case["data"])
    settings = ExecutionSettings.model_validate(case["execution"])
    points, _ = expand_grid(strategy, {}, case["grid"])
    table = run_grid(strategy, points, bars, settings)
    single = run_backtest(strategy, points[0], bars, settings)
    trades = single.trades.select_dtypes("number")
    return {
        "grid": {name: [exact(v) for v in table[name]] for name in table.columns if table[name].dtype.kind == "f"},
        "backtest": {name: exact(value) for name, value in single.metrics.items()},
        "equity": [exact(v) for v in single.equity.to_numpy()[:: max(1, bars.n_bars // 50)]],
        "trades": {name: [exact(v) for v in trades[name]] for name in trades.columns},
    }


def main() -> None:
    print(json.dumps({name: compute(case) for name, case in CASES.items()}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
