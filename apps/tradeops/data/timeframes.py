"""Timeframes in ccxt's spelling (`1m`, `15m`, `1h`, `4h`, `1d`, `1w`) and the gaps they imply."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from tradeops.errors import DataError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^([1-9][0-9]{0,3})([smhdw])$")
MAX_GAPS_LISTED = 50


def timeframe_seconds(timeframe: str) -> int:
    """Return the length of one bar in seconds; a DataError names a timeframe we cannot read."""
    match = _PATTERN.match(timeframe)
    if not match:
        raise DataError(f"timeframe {timeframe!r}: use a number and a unit s/m/h/d/w, e.g. 1m, 15m, 1h, 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def timeframe_name(seconds: int) -> str:
    """Return the ccxt spelling of a bar length in seconds (the largest unit that divides it)."""
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise DataError(f"bar length {seconds}s is not a whole number of seconds")  # pragma: no cover


def infer_timeframe(stamps: np.ndarray) -> str:
    """Return the most common step between consecutive timestamps (datetime64[ns]) as a timeframe."""
    if len(stamps) < 2:
        raise DataError("one bar is not enough to infer the timeframe; pass --timeframe")
    steps = np.diff(stamps.astype("datetime64[s]").astype("int64"))
    values, counts = np.unique(steps[steps > 0], return_counts=True)
    if not len(values):
        raise DataError("timestamps do not advance; cannot infer the timeframe")
    return timeframe_name(int(values[np.argmax(counts)]))


def find_gaps(stamps: np.ndarray, timeframe: str) -> tuple[int, list[dict[str, Any]]]:
    """Return the number of missing bars and the first gaps (after, before, missing) on a sorted timeline."""
    if len(stamps) < 2:
        return 0, []
    step = timeframe_seconds(timeframe)
    seconds = stamps.astype("datetime64[s]").astype("int64")
    jumps = np.diff(seconds)
    where = np.flatnonzero(jumps > step)
    missing = jumps[where] // step - 1
    listed = [
        {
            "after": pd.Timestamp(stamps[i]).isoformat(),
            "before": pd.Timestamp(stamps[i + 1]).isoformat(),
            "missing": int(count),
        }
        for i, count in zip(where[:MAX_GAPS_LISTED], missing[:MAX_GAPS_LISTED], strict=True)
    ]
    return int(missing.sum()), listed
