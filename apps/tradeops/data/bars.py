"""The in-memory form of validated market data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from tradeops.data.fields import FIELDS


@dataclass(frozen=True)
class DatasetOrigin:
    """The stored dataset version some bars were read from."""

    dataset: str
    version: str
    sha256: str
    timeframe: str
    source: str | None = None  # where the bars came from, e.g. ccxt:binance
    lot_size: float | None = None  # the market's amount step, as its manifest records it (None: not recorded)
    min_size: float | None = None  # the market's minimum amount (None: not recorded)


@dataclass(frozen=True)
class Bars:
    """OHLCV bars on one shared timeline: each field is a float64 array of shape (bars, symbols).

    Built only by the loaders, which validate first; treat the arrays as read-only.
    """

    name: str
    index: pd.DatetimeIndex
    symbols: tuple[str, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    origin: DatasetOrigin | None = None

    def __post_init__(self) -> None:
        for field in FIELDS:
            getattr(self, field).setflags(write=False)

    @property
    def n_bars(self) -> int:
        return len(self.index)

    @property
    def n_symbols(self) -> int:
        return len(self.symbols)

    def time(self, t: int) -> datetime:
        """Bar t's time, as `index[t].to_pydatetime()` gives it, without building a pandas Timestamp."""
        index = self.index  # its integers are UTC when it has a time zone
        stamp: datetime = np.datetime64(int(index.asi8[t]), index.unit).astype("datetime64[us]").item()
        tz = index.tz
        return stamp if tz is None else stamp.replace(tzinfo=UTC).astimezone(tz)

    def head(self, n_bars: int) -> Bars:
        """Return the first `n_bars` bars: what a strategy could see at bar `n_bars - 1`."""
        return self.slice(0, n_bars)

    def slice(self, start: int, stop: int) -> Bars:
        """Return bars `start` (inclusive) to `stop` (exclusive), all symbols."""
        return Bars(
            name=self.name,
            index=self.index[start:stop],
            symbols=self.symbols,
            **{field: getattr(self, field)[start:stop] for field in FIELDS},
            origin=self.origin,
        )

    def provenance(self) -> dict[str, Any]:
        """Return what these bars are: reference, dataset version (if any), hash, symbols, span, count."""
        origin = self.origin
        return {
            "ref": self.name,
            "dataset": origin.dataset if origin else None,
            "version": origin.version if origin else None,
            "sha256": origin.sha256 if origin else self.fingerprint().removeprefix("sha256:"),
            "symbols": list(self.symbols),
            "timeframe": origin.timeframe if origin else _timeframe(self.index),
            "first": self.index[0].isoformat() if self.n_bars else None,
            "last": self.index[-1].isoformat() if self.n_bars else None,
            "bars": self.n_bars,
        }

    def fingerprint(self) -> str:
        """Return a SHA-256 over timestamps, symbols and every value: equal data, equal hash."""
        digest = hashlib.sha256()
        digest.update(np.asarray(self.index.asi8).tobytes())
        digest.update("\x1f".join(self.symbols).encode())
        for field in FIELDS:
            digest.update(np.ascontiguousarray(getattr(self, field)).tobytes())
        return "sha256:" + digest.hexdigest()

    def years(self) -> float:
        """Return the calendar span of the data in years (365.25 days)."""
        if self.n_bars < 2:
            return 0.0
        span = self.index[-1] - self.index[0]
        return span.total_seconds() / (365.25 * 86400)

    def bars_per_year(self) -> float:
        """Return the observed bars per calendar year: the annualisation factor of every metric."""
        years = self.years()
        return (self.n_bars - 1) / years if years > 0 else float("nan")


def _timeframe(index: pd.DatetimeIndex) -> str | None:
    from tradeops.data.timeframes import infer_timeframe
    from tradeops.errors import DataError

    try:
        return infer_timeframe(index.to_numpy())
    except DataError:
        return None
