"""Validate OHLCV rows: fail fast and say where, never drop or fill anything.

The rows of every symbol are checked at once: `Rows` holds them grouped by symbol (each symbol's rows
in file order), with each row's 1-based place in the source, so a message names the same rows a
check of one symbol at a time would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradeops.errors import DataError

MAX_REPORTED = 5
MAX_PRICE = 1e12  # no instrument is quoted above this: 1e300 is a broken feed or a misread column, not a price


@dataclass(frozen=True)
class Rows:
    """Rows grouped by symbol: where each came from, its time, and where each symbol's rows begin."""

    row: np.ndarray  # 1-based data row in the source (header not counted)
    stamps: np.ndarray  # datetime64
    starts: np.ndarray  # True on the first row of each symbol


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

    def add(self, rows: Rows, mask: np.ndarray, column: str, problem: str) -> None:
        hits = np.flatnonzero(mask)
        self.total += len(hits)
        first = hits[np.argsort(rows.row[hits], kind="stable")[:MAX_REPORTED]]  # earliest in the source
        for i in first:
            self.examples.append(Violation(int(rows.row[i]), str(pd.Timestamp(rows.stamps[i])), column, problem))

    def raise_if_any(self, source: str) -> None:
        """Raise one DataError that lists the first violations and counts the rest."""
        if not self.total:
            return
        shown = sorted(self.examples, key=lambda v: v.row)[:MAX_REPORTED]
        more = self.total - len(shown)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        lines = "\n  ".join(str(v) for v in shown)
        raise DataError(f"{source}: {self.total} invalid value(s):\n  {lines}{tail}")


def check_timeline(rows: Rows, max_gap: pd.Timedelta | None, found: Findings) -> None:
    """Each symbol's timestamps strictly increasing (no duplicates, sorted) and no gap wider than `max_gap`."""
    if len(rows.stamps) < 2:
        return
    step = np.diff(rows.stamps)
    inside = ~rows.starts[1:]  # a step from one symbol's last row to the next one's first is no step
    zero = np.timedelta64(0, "ns")
    found.add(rows, _after_first(inside & (step == zero)), "timestamp", "duplicate timestamp (same as the row before)")
    found.add(
        rows, _after_first(inside & (step < zero)), "timestamp", "earlier than the row before (data is not sorted)"
    )
    if max_gap is not None:
        wide = inside & (step > np.timedelta64(max_gap.value, "ns"))
        found.add(rows, _after_first(wide), "timestamp", f"gap from the row before exceeds {max_gap}")


def _all_good(values: dict[str, np.ndarray]) -> bool:
    with np.errstate(invalid="ignore"):
        good = values["volume"] >= 0  # False for NaN
        good &= values["volume"] < np.inf
        for name in ("open", "high", "low", "close"):
            good &= (values[name] > 0) & (values[name] <= MAX_PRICE)  # False for NaN; inf is above the limit
        good &= values["high"] >= np.maximum(values["open"], values["close"])
        good &= values["low"] <= np.minimum(values["open"], values["close"])
    return bool(good.all())


def _after_first(mask: np.ndarray) -> np.ndarray:
    return np.concatenate([[False], mask])


def check_values(rows: Rows, values: dict[str, np.ndarray], found: Findings) -> None:
    """No NaN in OHLC, 0 < prices <= 1e12, high/low bracket open and close, volume >= 0."""
    if _all_good(values):  # one pass over clean data; the rule by rule search below only when something is wrong
        return
    for name in ("open", "high", "low", "close"):
        column = values[name]
        found.add(rows, np.isnan(column), name, "missing value (NaN)")
        found.add(rows, ~np.isnan(column) & (column <= 0), name, "price must be > 0")
        found.add(rows, np.isinf(column), name, "price must be finite")
        found.add(rows, np.isfinite(column) & (column > MAX_PRICE), name, f"price above {MAX_PRICE:.0e} is implausible")
    volume = values["volume"]
    found.add(rows, np.isnan(volume), "volume", "missing value (NaN)")
    found.add(rows, volume < 0, "volume", "volume must be >= 0")
    found.add(rows, np.isinf(volume), "volume", "volume must be finite")
    with np.errstate(invalid="ignore"):
        top = np.maximum(values["open"], values["close"])
        bottom = np.minimum(values["open"], values["close"])
        found.add(rows, values["high"] < top, "high", "high is below max(open, close)")
        found.add(rows, values["low"] > bottom, "low", "low is above min(open, close)")
