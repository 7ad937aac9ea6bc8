"""Bars as per-symbol columns: the one shape that hashing, storing and checking a dataset read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tradeops.data.fields import FIELDS

if TYPE_CHECKING:
    import pandas as pd

    from tradeops.data.bars import Bars

# symbol -> (its times as datetime64 in the unit they came in, field -> its float64 values); symbols of Bars
# share one times array
Columns = dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]


def frames_columns(frames: dict[str, pd.DataFrame]) -> Columns:
    """Return per-symbol `timestamp, open, ..., volume` frames as columns."""
    return {
        symbol: (
            frame["timestamp"].to_numpy(),
            {name: frame[name].to_numpy(dtype="float64") for name in FIELDS},
        )
        for symbol, frame in frames.items()
    }


def bars_columns(bars: Bars) -> Columns:
    """Return validated bars as columns, without a frame per symbol (the symbols share the times array)."""
    stamps = bars.index.to_numpy()
    by_symbol = {name: np.ascontiguousarray(getattr(bars, name).T) for name in FIELDS}  # one row per symbol
    return {
        symbol: (stamps, {name: by_symbol[name][column] for name in FIELDS})
        for column, symbol in enumerate(bars.symbols)
    }
