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


def find_gaps(
    stamps: np.ndarray, timeframe: str, limit: int | None = MAX_GAPS_LISTED
) -> tuple[int, list[dict[str, Any]]]:
    """Return the number of missing bars and the first `limit` gaps (after, before, missing; None: every gap)
    on a sorted timeline."""
    where, missing = _holes(stamps, timeframe)
    listed = [_gap(stamps, i, count) for i, count in zip(where[:limit], missing[:limit], strict=True)]
    return int(missing.sum()), listed


def gap_summary(stamps: np.ndarray, timeframe: str) -> dict[str, Any]:
    """Return the missing bars, the number of gaps and the largest gap (the first of the largest; None: no gap)."""
    where, missing = _holes(stamps, timeframe)
    largest = _gap(stamps, where[np.argmax(missing)], missing.max()) if len(missing) else None
    return {"missing_bars": int(missing.sum()), "count": len(missing), "largest": largest}


def _holes(stamps: np.ndarray, timeframe: str) -> tuple[np.ndarray, np.ndarray]:
    if len(stamps) < 2:
        return np.array([], dtype=np.intp), np.array([], dtype=np.int64)
    step = timeframe_seconds(timeframe)
    jumps = np.diff(stamps.astype("datetime64[s]").astype("int64"))
    where = np.flatnonzero(jumps > step)
    return where, jumps[where] // step - 1


def _gap(stamps: np.ndarray, i: int, count: int) -> dict[str, Any]:
    after, before = pd.Timestamp(stamps[i]).isoformat(), pd.Timestamp(stamps[i + 1]).isoformat()
    return {"after": after, "before": before, "missing": int(count)}
