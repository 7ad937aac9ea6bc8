"""The backtest engine: vectorbt's compiled order core driven by one cached numba loop."""

from tradeops.engine.backtest import BacktestResult, run_backtest, run_grid
from tradeops.engine.settings import Direction, ExecutionSettings, Sizing

__all__ = ["BacktestResult", "Direction", "ExecutionSettings", "Sizing", "run_backtest", "run_grid"]
