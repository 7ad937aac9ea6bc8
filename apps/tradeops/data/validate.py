"""Validate OHLCV frames: fail fast and say where, never drop or fill anything."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradeops.data.bars import FIELDS
from tradeops.errors import DataError

MAX_REPORTED = 5
MAX_PRICE = 1e12  # no instrument is quoted above this: 1e300 is a broken feed or a misread column, not a price


@dataclass(frozen=True)
class Violation:
    """One broken rule at one place in the source."""

    row: int  # 1-based data row in the source (header not counted)
    timestamp: str
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row} ({self.timestamp}), column '{self.column}': {self.problem}"


@dataclass
class Findings:
    """Every broken rule found: a total count and the first few places, for the message."""

    total: int = 0
    examples: list[Violation] = field(default_factory=list)

    def add(self, frame: pd.DataFrame, mask: np.ndarray, column: str, problem: str) -> None:
        rows = np.flatnonzero(mask)
        self.total += len(rows)
        for i in rows[:MAX_REPORTED]:
            self.examples.append(
                Violation(int(frame["_row"].iloc[i]), str(frame["timestamp"].iloc[i]), column, problem)
            )

    def raise_if_any(self, source: str) -> None:
        """Raise one DataError that lists the first violations and counts the rest."""
        if not self.total:
            return
        shown = sorted(self.examples, key=lambda v: v.row)[:MAX_REPORTED]
        more = self.total - len(shown)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        lines = "\n  ".join(str(v) for v in shown)
        raise DataError(f"{source}: {self.total} invalid value(s):\n  {lines}{tail}")


def check_timeline(frame: pd.DataFrame, max_gap: pd.Timedelta | None, found: Findings) -> None:
    """Timestamps strictly increasing (no duplicates, sorted) and no gap wider than `max_gap`."""
    stamps = frame["timestamp"].to_numpy()
    if len(stamps) < 2:
        return
    step = np.diff(stamps)
    zero = np.timedelta64(0, "ns")
    duplicate = np.concatenate([[False], step == zero])
    unsorted = np.concatenate([[False], step < zero])
    found.add(frame, duplicate, "timestamp", "duplicate timestamp (same as the row before)")
    found.add(frame, unsorted, "timestamp", "earlier than the row before (data is not sorted)")
    if max_gap is not None:
        wide = np.concatenate([[False], step > np.timedelta64(max_gap.value, "ns")])
        found.add(frame, wide, "timestamp", f"gap from the row before exceeds {max_gap}")


def check_values(frame: pd.DataFrame, found: Findings) -> None:
    """No NaN in OHLC, 0 < prices <= 1e12, high/low bracket open and close, volume >= 0."""
    values = {field: frame[field].to_numpy(dtype="float64") for field in FIELDS}
    for name in ("open", "high", "low", "close"):
        column = values[name]
        found.add(frame, np.isnan(column), name, "missing value (NaN)")
        found.add(frame, ~np.isnan(column) & (column <= 0), name, "price must be > 0")
        found.add(frame, np.isinf(column), name, "price must be finite")
        found.add(
            frame, np.isfinite(column) & (column > MAX_PRICE), name, f"price above {MAX_PRICE:.0e} is implausible"
        )
    volume = values["volume"]
    found.add(frame, np.isnan(volume), "volume", "missing value (NaN)")
    found.add(frame, volume < 0, "volume", "volume must be >= 0")
    found.add(frame, np.isinf(volume), "volume", "volume must be finite")
    with np.errstate(invalid="ignore"):
        top = np.maximum(values["open"], values["close"])
        bottom = np.minimum(values["open"], values["close"])
        found.add(frame, values["high"] < top, "high", "high is below max(open, close)")
        found.add(frame, values["low"] > bottom, "low", "low is above min(open, close)")
