"""The backtest engine: our own compiled order core (`orders`) driven by one cached numba loop (`kernel`).

The names below are imported on first use, so `tradeops.engine.settings` (what the CLI's options need)
does not pull in numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeops.lazy import lazy_attributes

if TYPE_CHECKING:
    from tradeops.engine.backtest import BacktestResult, run_backtest, run_grid
    from tradeops.engine.settings import Direction, ExecutionSettings, Sizing

__getattr__ = lazy_attributes(
    __name__,
    {
        "BacktestResult": "tradeops.engine.backtest",
        "run_backtest": "tradeops.engine.backtest",
        "run_grid": "tradeops.engine.backtest",
        "Direction": "tradeops.engine.settings",
        "ExecutionSettings": "tradeops.engine.settings",
        "Sizing": "tradeops.engine.settings",
    },
)

__all__ = ["BacktestResult", "Direction", "ExecutionSettings", "Sizing", "run_backtest", "run_grid"]
