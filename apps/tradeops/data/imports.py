"""Import a CSV or Parquet file as a dataset version: ISO or epoch times, ccxt or yfinance column names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from tradeops.data.bars import FIELDS, Bars
from tradeops.data.load import TIMESTAMP_NAMES, frame_to_bars, read_table
from tradeops.data.quality import check_bars
from tradeops.data.timeframes import infer_timeframe, timeframe_name, timeframe_seconds
from tradeops.errors import DataError

if TYPE_CHECKING:
    from tradeops.data.datasets import DatasetStore, Manifest, MarketUnits

TimeUnit = Literal["s", "ms", "us", "ns"]
UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# The largest epoch value each unit reaches before year 5138 (s) / 2286 (others): magnitude tells them apart.
_UNIT_LIMITS: tuple[tuple[float, TimeUnit], ...] = ((1e11, "s"), (1e14, "ms"), (1e17, "us"), (float("inf"), "ns"))
# Bar lengths venues offer (ccxt's spellings); a file spaced otherwise was most likely read in the wrong unit.
KNOWN_TIMEFRAMES = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")
EARLIEST = pd.Timestamp("1990-01-01")


@dataclass(frozen=True)
class Imported:
    """What an import stored and how it read the file."""

    manifest: Manifest
    created: bool
    time_reading: str


def detect_time_unit(values: np.ndarray) -> TimeUnit:
    """Return the epoch unit of numeric timestamps from their magnitude (1.7e9 s, 1.7e12 ms, ...)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        raise DataError("the timestamp column holds no numbers")
    largest = float(np.abs(finite).max())
    return next(unit for limit, unit in _UNIT_LIMITS if largest < limit)


def read_import(path: Path, *, symbol: str | None, time_unit: TimeUnit | None) -> tuple[pd.DataFrame, str]:
    """Read the file into a frame with datetime timestamps; return it and how the times were read."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    frame = read_table(path)
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    stamp = next((name for name in TIMESTAMP_NAMES if name in frame.columns), None)
    if stamp is None:
        raise DataError(f"{path}: no timestamp column (expected one of {', '.join(TIMESTAMP_NAMES)})")
    values = frame[stamp]
    if pd.api.types.is_numeric_dtype(values):
        unit = time_unit or detect_time_unit(values.to_numpy(dtype="float64"))
        how = "given by --time-unit" if time_unit else "detected from their magnitude; override with --time-unit"
        frame[stamp] = pd.to_datetime(values, unit=unit, utc=True, errors="coerce")
        reading = f"epoch {UNIT_NAMES[unit]} ({how})"
    elif time_unit:
        raise DataError(f"{path}: --time-unit {time_unit} given but column '{stamp}' holds date/time text, not numbers")
    else:
        reading = "ISO-8601 date/time text (UTC when no offset)"
    if symbol:
        if "symbol" in frame.columns:
            raise DataError(f"{path}: has a 'symbol' column; drop --symbol or the column")
        frame["symbol"] = symbol
    return frame[[c for c in frame.columns if c in (stamp, "symbol", *FIELDS)]], reading


def bars_to_frames(bars: Bars) -> dict[str, pd.DataFrame]:
    """Split validated bars into one `timestamp, open, ..., volume` frame per symbol."""
    frames = {}
    for column, symbol in enumerate(bars.symbols):
        frame = pd.DataFrame({"timestamp": bars.index.to_numpy()})
        for field in FIELDS:
            frame[field] = getattr(bars, field)[:, column]
        frames[symbol] = frame
    return frames


def import_file(
    store: DatasetStore,
    path: Path,
    *,
    dataset: str,
    symbol: str | None = None,
    timeframe: str | None = None,
    time_unit: TimeUnit | None = None,
    units: MarketUnits | None = None,
) -> Imported:
    """Validate a file with the loader's rules and store it as a new version of `dataset`; `units` (amount
    step and minimum of its market) are recorded for every symbol in it."""
    frame, reading = read_import(path, symbol=symbol, time_unit=time_unit)
    bars = frame_to_bars(frame, source=str(path), default_symbol=symbol or path.name.split(".")[0].upper())
    check_plausible(bars, source=str(path), reading=reading, timeframe=timeframe)
    found = infer_timeframe(bars.index.to_numpy())
    if timeframe is not None and timeframe_seconds(timeframe) != timeframe_seconds(found):
        raise DataError(f"{path}: --timeframe {timeframe} but most bars are {found} apart")
    quality = check_bars(bars, timeframe=timeframe or found).to_dict()
    store.objects.reclaim(f"datasets/{dataset}/")  # parts a killed import was writing (see tradeops.scratch)
    manifest, created = store.write(
        dataset,
        bars,
        timeframe=timeframe or found,
        source=f"file:{path.name}",
        quality=quality,
        units=dict.fromkeys(bars.symbols, units) if units is not None else None,
    )
    return Imported(manifest, created, reading)


def check_plausible(bars: Bars, *, source: str, reading: str, timeframe: str | None = None) -> None:
    """Refuse times before 1990 or after tomorrow and a bar spacing no venue offers: a misread time unit."""
    hint = f"the times were read as {reading}"
    if "--time-unit" in reading and "given" in reading:
        hint += "; check --time-unit, or leave it out to detect the unit from the magnitude"
    first, last = bars.index[0], bars.index[-1]
    if first < EARLIEST:
        raise DataError(f"{source}: first bar at {first}, before 1990: implausible for market data ({hint})")
    tomorrow = pd.Timestamp.now(tz="UTC").tz_localize(None) + pd.Timedelta(days=1)
    if last > tomorrow:
        raise DataError(f"{source}: last bar at {last}, after tomorrow: implausible for market data ({hint})")
    if timeframe is not None and timeframe not in KNOWN_TIMEFRAMES:
        raise DataError(
            f"{source}: --timeframe {timeframe} is not a bar length venues offer ({', '.join(KNOWN_TIMEFRAMES)})"
        )
    seconds = bars.index.to_numpy().astype("datetime64[s]").astype("int64")
    steps = np.diff(seconds)
    if len(steps) and timeframe is None:
        spacing = timeframe_name(int(np.median(steps)))
        if spacing not in KNOWN_TIMEFRAMES:
            raise DataError(
                f"{source}: bars are a median {spacing} apart, not a bar length venues offer "
                f"({', '.join(KNOWN_TIMEFRAMES)}); {hint}"
            )
