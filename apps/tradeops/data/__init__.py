"""Market data: validated OHLCV bars for one or many symbols."""

from tradeops.data.bars import Bars
from tradeops.data.load import load_bars

__all__ = ["Bars", "load_bars"]
