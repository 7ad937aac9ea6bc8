"""Strategies by name."""

from __future__ import annotations

from tradeops.errors import ConfigError
from tradeops.strategies.base import Signals, Strategy, StrategyParams
from tradeops.strategies.donchian_breakout import DonchianBreakout
from tradeops.strategies.ml_classifier import MlClassifier
from tradeops.strategies.rsi_reversion import RsiReversion
from tradeops.strategies.sma_cross import SmaCross

STRATEGIES: dict[str, Strategy] = {s.name: s for s in (SmaCross(), RsiReversion(), DonchianBreakout(), MlClassifier())}


def get_strategy(name: str) -> Strategy:
    """Return the strategy called `name`, or a ConfigError listing the known ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r}; strategies: {', '.join(STRATEGIES)}") from None


__all__ = ["STRATEGIES", "Signals", "Strategy", "StrategyParams", "get_strategy"]
