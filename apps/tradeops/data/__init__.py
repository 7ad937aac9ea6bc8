"""Market data: validated OHLCV bars for one or many symbols (names imported on first use: pandas is heavy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeops.lazy import lazy_attributes

if TYPE_CHECKING:
    from tradeops.data.bars import Bars
    from tradeops.data.load import load_bars

__getattr__ = lazy_attributes(__name__, {"Bars": "tradeops.data.bars", "load_bars": "tradeops.data.load"})

__all__ = ["Bars", "load_bars"]
