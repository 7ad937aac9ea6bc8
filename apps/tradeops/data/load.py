"""Load bars from CSV, Parquet or a bundled sample, validating everything on the way in."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd

from tradeops.data import samples
from tradeops.data.bars import FIELDS, Bars, DatasetOrigin
from tradeops.data.validate import Findings, Rows, check_timeline, check_values
from tradeops.errors import DataError

TIMESTAMP_NAMES = ("timestamp", "datetime", "date", "time")
SAMPLE_PREFIX = "sample:"
DATASET_PREFIX = "dataset:"

if TYPE_CHECKING:
    from tradeops.data.window import Window
    from tradeops.store.objects import ObjectStore


def load_bars(
    reference: str,
    *,
    max_gap: str | None = None,
    max_bars: int | None = None,
    window: Window | None = None,
    objects: ObjectStore | None = None,
) -> Bars:
    """Load and validate bars from a path (.csv, .csv.gz, .parquet), a `sample:NAME[?k=v&...]` or a
    `dataset:NAME[@VERSION]` in the object store (`objects`, else the one the settings name).

    `max_gap` (e.g. "7D") rejects holes in the timeline wider than that; by default gaps such as
    weekends and holidays are accepted, since they are normal in market data. `max_bars` (bars x
    symbols) refuses data too large for the memory a worker has; a synthetic sample before it is made.
    `window` keeps only the bars inside it (after validating all of them).
    """
    bars = _load(reference, _parse_gap(max_gap), objects, max_bars)
    if max_bars is not None and bars.n_bars * bars.n_symbols > max_bars:
        raise DataError(
            f"{reference}: {bars.n_bars:,} bars x {bars.n_symbols} symbols is more than the {max_bars:,} "
            "a worker has memory for (TRADEOPS_MEMORY_LIMIT_MIB, docs/backtester.md)"
        )
    return window.apply(bars) if window is not None else bars


def _load(reference: str, gap: pd.Timedelta | None, objects: ObjectStore | None, max_bars: int | None) -> Bars:
    if reference.startswith(DATASET_PREFIX):
        return _load_dataset(reference, gap, objects)
    if reference.startswith(SAMPLE_PREFIX):
        name, _, query = reference[len(SAMPLE_PREFIX) :].partition("?")
        frame = samples.load_sample(name, dict(parse_qsl(query)), max_cells=max_bars)
        return frame_to_bars(frame, source=reference, max_gap=gap, default_symbol=name)
    path = Path(reference)
    if not path.exists():
        raise DataError(f"{reference}: no such file (and not a sample; samples: {samples.names()})")
    return frame_to_bars(read_table(path), source=reference, max_gap=gap, default_symbol=path.stem)


def _load_dataset(reference: str, gap: pd.Timedelta | None, objects: ObjectStore | None) -> Bars:
    from tradeops.data.datasets import open_datasets, parse_ref

    store = open_datasets(objects)
    manifest = store.manifest(parse_ref(reference))
    bars = frame_to_bars(store.read(manifest), source=reference, max_gap=gap)
    units = manifest.market_units()
    origin = DatasetOrigin(
        manifest.dataset,
        manifest.version,
        manifest.sha256,
        manifest.timeframe,
        source=manifest.source,
        lot_size=units.lot_size,
        min_size=units.min_size,
    )
    return dataclasses.replace(bars, origin=origin)


def _parse_gap(max_gap: str | None) -> pd.Timedelta | None:
    if max_gap is None:
        return None
    try:
        return pd.Timedelta(max_gap)
    except ValueError as error:
        raise DataError(f"max_gap {max_gap!r} is not a duration like '3D' or '90min'") from error


def read_table(path: Path) -> pd.DataFrame:
    suffixes = "".join(path.suffixes).lower()
    try:
        if suffixes.endswith(".parquet"):
            frame = pd.read_parquet(path)
            if not isinstance(frame.index, pd.RangeIndex):
                frame = frame.reset_index()
            return frame
        if suffixes.endswith((".csv", ".csv.gz")):
            return pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: cannot be read: {error}") from error
    raise DataError(f"{path}: unsupported format {suffixes or '(none)'}; use .csv, .csv.gz or .parquet")


def frame_to_bars(
    frame: pd.DataFrame,
    *,
    source: str,
    max_gap: pd.Timedelta | None = None,
    default_symbol: str = "ASSET",
) -> Bars:
    """Turn a wide (one symbol) or long (`symbol` column) OHLCV frame into validated Bars.

    Every symbol's rows are checked in one pass over the columns, however many symbols there are.
    """
    frame, codes, symbols = _normalise_columns(frame, source, default_symbol)
    if frame.empty:
        raise DataError(f"{source}: no rows")
    order = np.argsort(codes, kind="stable")  # grouped by symbol (names sorted), each symbol's rows in file order
    counts = np.bincount(codes, minlength=len(symbols))
    starts = np.zeros(len(order), dtype=bool)
    starts[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True
    rows = Rows(order + 1, frame["timestamp"].to_numpy()[order], starts)
    values = {field: frame[field].to_numpy(dtype="float64")[order] for field in FIELDS}
    found = Findings()
    check_timeline(rows, max_gap, found)
    check_values(rows, values, found)
    found.raise_if_any(source)
    return _stack(symbols, counts, rows.stamps, values, source)


def _normalise_columns(
    frame: pd.DataFrame, source: str, default_symbol: str
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Return the frame with `timestamp` parsed and float fields, each row's symbol number and the names."""
    frame = frame.copy(deep=False)  # columns are replaced, never written into: the caller's frame stays as it was
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("unnamed") or c == ""]
    stamp_col = next((c for c in TIMESTAMP_NAMES if c in frame.columns), unnamed[0] if unnamed else None)
    if stamp_col is None:
        raise DataError(f"{source}: no timestamp column (expected one of {', '.join(TIMESTAMP_NAMES)})")
    missing = [f for f in FIELDS if f not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)}; need {', '.join(FIELDS)}")
    frame = frame.rename(columns={stamp_col: "timestamp"})
    if pd.api.types.is_numeric_dtype(frame["timestamp"]):
        raise DataError(
            f"{source}: column 'timestamp' holds epoch numbers, which this loader does not read (seconds? "
            "milliseconds?): run `tradeops data import FILE --dataset NAME` (it reads epoch s/ms/us/ns) and "
            "use --data dataset:NAME, or write ISO-8601 times such as 2024-01-31T15:30:00Z"
        )
    codes, symbols = _symbols(frame, source, default_symbol)
    # Times with an offset become UTC; times without one are taken as UTC. One timeline, no local clocks.
    parsed = _parse_times(frame["timestamp"])
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        first = int(bad[0])
        raise DataError(
            f"{source}: row {first + 1}, column 'timestamp': {frame['timestamp'].iloc[first]!r} "
            f"is not a date/time ({len(bad)} such row(s))"
        )
    frame["timestamp"] = parsed
    for field in FIELDS:
        if frame[field].dtype == np.float64:  # already numbers (Parquet, a dataset): nothing to convert
            continue
        numeric = pd.to_numeric(frame[field], errors="coerce")
        bad = np.flatnonzero(numeric.isna().to_numpy() & frame[field].notna().to_numpy())
        if len(bad):
            first = int(bad[0])
            raise DataError(
                f"{source}: row {first + 1} ({frame['timestamp'].iloc[first]}), column '{field}': "
                f"{frame[field].iloc[first]!r} is not a number"
            )
        frame[field] = numeric.astype("float64")
    return frame, codes, symbols


def _parse_times(column: pd.Series) -> pd.Series:
    """Return the times as naive UTC datetimes (NaT where unreadable), parsing each distinct text once."""
    if pd.api.types.is_datetime64_dtype(column):  # naive: UTC already
        return column
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.to_datetime(column, utc=True).dt.tz_localize(None)
    codes, distinct = pd.factorize(column)  # a million rows of daily bars hold a few thousand distinct times
    parsed = pd.to_datetime(pd.Series(distinct), errors="coerce", utc=True).dt.tz_localize(None).to_numpy()
    return pd.Series(np.append(parsed, np.datetime64("NaT"))[codes], index=column.index)  # -1: a missing value


def _symbols(frame: pd.DataFrame, source: str, default_symbol: str) -> tuple[np.ndarray, list[str]]:
    """Number each row's symbol 0..n-1 in the order of the sorted names; refuse an empty symbol."""
    if "symbol" not in frame.columns:
        return np.zeros(len(frame), dtype=np.intp), [default_symbol]
    codes, uniques = pd.factorize(frame["symbol"])  # the distinct values once, not a string per row
    texts = [str(value) for value in uniques]
    empty = np.array([text.strip() == "" for text in texts] + [True])  # the last stands for a missing value (-1)
    blank = empty[codes]
    if blank.any():
        first = int(np.flatnonzero(blank)[0])
        raise DataError(f"{source}: row {first + 1}, column 'symbol': empty ({int(blank.sum())} such row(s))")
    names = sorted(set(texts))  # values that read alike (1 and "1") are one symbol
    number = {name: i for i, name in enumerate(names)}
    return np.array([number[text] for text in texts], dtype=np.intp)[codes], names


def _stack(
    symbols: list[str], counts: np.ndarray, stamps: np.ndarray, values: dict[str, np.ndarray], source: str
) -> Bars:
    """Lay rows grouped by symbol out as (bars, symbols) arrays; every symbol must have the same timeline."""
    width, length = len(symbols), int(counts[0])
    timeline = stamps[:length]
    if not (counts == length).all() or not (stamps.reshape(width, length) == timeline).all():
        raise _different_timelines(symbols, counts, stamps, source)
    arrays: dict[str, Any] = {field: np.ascontiguousarray(values[field].reshape(width, length).T) for field in FIELDS}
    index = pd.DatetimeIndex(timeline, name="timestamp")
    return Bars(name=source, index=index, symbols=tuple(symbols), **arrays)


def _different_timelines(symbols: list[str], counts: np.ndarray, stamps: np.ndarray, source: str) -> DataError:
    ends = np.cumsum(counts)
    index = pd.DatetimeIndex(stamps[: ends[0]])
    position = next(
        i for i in range(1, len(symbols)) if not pd.DatetimeIndex(stamps[ends[i - 1] : ends[i]]).equals(index)
    )
    other = pd.DatetimeIndex(stamps[ends[position - 1] : ends[position]])
    only_here = index.difference(other)
    only_there = other.difference(index)
    example = (only_here if len(only_here) else only_there)[0]
    return DataError(
        f"{source}: symbols {symbols[0]} and {symbols[position]} have different timelines "
        f"({len(only_here)} timestamp(s) missing from {symbols[position]}, {len(only_there)} extra; "
        f"first difference at {example}); align them before loading"
    )
