"""Signals for the new bar only: what the trader computes each bar instead of the whole history's.

`steps_for` picks a strategy's cheapest exact form. A strategy may define `incremental(params)` returning
a `SignalSteps` that carries its state from bar to bar (Wilder's RSI, the walk-forward model); one with
`lookback(params)` recomputes only its trailing window; any other sees its whole history. Each form's
signals at bar t equal those of `strategy.signals(bars.head(t + 1))` at t, exactly:
tests/apps/strategies/test_windowed.py proves it on every prefix, for every strategy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

import numpy as np

from tradeops.data.bars import Bars
from tradeops.strategies.base import ParamTable, Strategy, StrategyParams, lookback, table_from_points

SignalRow = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # entries, exits, short entries, short exits


class SignalSteps(Protocol):
    """Signals bar by bar. Called for bars t, t + 1, ... of one growing history it carries state between
    calls; any other bar (a start, a recovery) rebuilds that state from bar 0."""

    def at(self, bars: Bars, t: int) -> SignalRow:
        """The signals of bar t, each of shape (symbols, points), using bars 0..t only."""
        ...


class WindowedSteps:
    """Recomputes the signals on the last `bars_per_window` bars (a strategy with a lookback)."""

    def __init__(self, strategy: Strategy, table: ParamTable, bars_per_window: int | None) -> None:
        self.strategy, self.table, self.bars_per_window = strategy, table, bars_per_window

    def at(self, bars: Bars, t: int) -> SignalRow:
        start = 0 if self.bars_per_window is None else max(0, t + 1 - self.bars_per_window)
        signals = self.strategy.signals(bars.slice(start, t + 1), self.table)
        entries, exits, short_entries, short_exits = (a[-1] for a in signals.as_tuple())
        return entries, exits, short_entries, short_exits


class RecursiveSteps(ABC):
    """Base of the stepped forms: `advance(bars, t)` moves the carried state from bar t - 1 to bar t."""

    def __init__(self) -> None:
        self.next_bar = 0  # the bar the carried state is ready to take

    def at(self, bars: Bars, t: int) -> SignalRow:
        if t == 0 or t != self.next_bar:  # a start or a recovery: rebuild the state from the first bar
            self.reset(bars.n_symbols)
            for earlier in range(t):
                self.advance(bars, earlier)
        self.next_bar = t + 1
        return self.advance(bars, t)

    @abstractmethod
    def reset(self, n_symbols: int) -> None:
        """Forget every bar: the state before bar 0."""

    @abstractmethod
    def advance(self, bars: Bars, t: int) -> SignalRow:
        """Take bar t into the state (it holds bars 0..t - 1) and return bar t's signals."""


def trailing_extreme(values: np.ndarray, end: int, window: int, highest: bool) -> np.ndarray:
    """Highest (lowest) of rows end - window + 1 .. end per column; NaN before a full window."""
    if end + 1 < window or end < 0:
        return np.full(values.shape[1], np.nan)
    rows = values[end + 1 - window : end + 1]
    return rows.max(axis=0) if highest else rows.min(axis=0)


def steps_for(strategy: Strategy, params: StrategyParams) -> SignalSteps:
    """The exact per-bar form of a strategy's signals for one parameter point."""
    method = getattr(strategy, "incremental", None)
    if method is not None:
        steps: SignalSteps = method(params)
        return steps
    return WindowedSteps(strategy, table_from_points([params]), lookback(strategy, params))
