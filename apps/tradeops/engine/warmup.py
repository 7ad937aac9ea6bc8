"""Compile the kernel for the one signature every run uses, so later processes load it from cache."""

from __future__ import annotations

from tradeops.data import load_bars
from tradeops.engine.backtest import run_backtest, run_grid
from tradeops.engine.settings import ExecutionSettings
from tradeops.strategies import get_strategy


def warm() -> None:
    """Run one tiny backtest and grid on synthetic bars."""
    bars = load_bars("sample:synthetic?bars=60")
    strategy = get_strategy("sma_cross")
    point = strategy.Params.model_validate({"fast": 3, "slow": 8})
    run_backtest(strategy, point, bars, ExecutionSettings())
    run_grid(strategy, [point], bars, ExecutionSettings())
