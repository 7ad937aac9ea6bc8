"""Dataset parts: the bars of every symbol in one period, one Parquet object each, read with pyarrow.

A part holds the rows of one calendar year (one month when a year of every symbol would pass
`PART_ROWS`), symbol by symbol, each symbol's rows in time order: columns `symbol` (dictionary
encoded), `timestamp`, `open`, `high`, `low`, `close`, `volume`. 400 symbols of ten years of daily
bars are ten parts, not 4,000. Versions written before (issue 29) hold one part per symbol and year,
without a `symbol` column (the manifest names it); both are read, into one Arrow table, converted to
pandas once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tradeops.data.fields import FIELDS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from tradeops.data.columns import Columns

PART_ROWS = 2_000_000  # rows of a year-long part at most (bars x symbols); above it, parts are a month long
COLUMNS = ("symbol", "timestamp", *FIELDS)
SECONDS_PER_YEAR = 365 * 86_400
UNITS = ("s", "ms", "us", "ns")  # Arrow's time units, coarsest first


@dataclass(frozen=True)
class Piece:
    """One encoded part, before it is stored."""

    data: bytes
    symbols: list[str]
    bars: int
    first: np.datetime64
    last: np.datetime64


def period_unit(timeframe_seconds: int, symbols: int) -> str:
    """Return the numpy unit of a part's period: `Y` (a calendar year) or `M` (a month) for dense data."""
    return "Y" if symbols * (SECONDS_PER_YEAR // timeframe_seconds) <= PART_ROWS else "M"


def encode(columns: Columns, timeframe_seconds: int) -> Iterator[Piece]:
    """Yield the parts of a dataset's columns, period by period.

    Each part is encoded when it is asked for, so a writer holds one part's bytes at a time.
    """
    import pyarrow as pa

    symbols = sorted(columns)
    stamps = np.concatenate([columns[symbol][0] for symbol in symbols])
    owner = np.repeat(np.arange(len(symbols), dtype=np.int32), [len(columns[symbol][0]) for symbol in symbols])
    values = {field: np.concatenate([columns[symbol][1][field] for symbol in symbols]) for field in FIELDS}
    periods = stamps.astype(f"datetime64[{period_unit(timeframe_seconds, len(symbols))}]").astype("int64")
    order = np.argsort(periods, kind="stable")  # period by period, each symbol by symbol in time order as given
    edges = np.flatnonzero(np.diff(periods[order])) + 1
    for take in np.split(order, edges):
        present = np.unique(owner[take])  # a symbol listed after this period, or delisted before, is not in it
        names = [symbols[i] for i in present]
        table = {
            "symbol": pa.DictionaryArray.from_arrays(
                pa.array(np.searchsorted(present, owner[take]).astype(np.int32)), pa.array(names, pa.string())
            ),
            "timestamp": pa.array(stamps[take]),
            **{field: pa.array(values[field][take]) for field in FIELDS},
        }
        first, last = stamps[take].min(), stamps[take].max()
        yield Piece(_to_parquet(pa.table(table)), names, len(take), first, last)


def _to_parquet(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    # snappy, dictionaries for the symbol and the times only (a price rarely repeats): a third of the time of
    # zstd with a dictionary tried for every column, about as small, and as quick to read
    pq.write_table(table, buffer, compression="snappy", use_dictionary=["symbol", "timestamp"])
    return buffer.getvalue()


def decode(data: bytes, symbol: str | None) -> pa.Table:
    """Return a part's rows with a dictionary `symbol` column; `symbol` names the one symbol of an old part."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(data))
    if symbol is not None:  # the layout before issue 29: one symbol, named by the manifest
        column = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(table.num_rows, dtype=np.int32)), pa.array([symbol], pa.string())
        )
        table = table.append_column("symbol", column)
    return table.select(list(COLUMNS))


def join(tables: list[pa.Table]) -> pd.DataFrame:
    """Return the parts' rows as one long frame, converted to pandas once (times in the finest unit stored)."""
    import pyarrow as pa

    units = [table.schema.field("timestamp").type.unit for table in tables]
    stamp = pa.timestamp(max(units, key=UNITS.index))
    schema = pa.schema(
        [("symbol", pa.dictionary(pa.int32(), pa.string())), ("timestamp", stamp)]
        + [(field, pa.float64()) for field in FIELDS]
    )
    return pa.concat_tables([table.cast(schema) for table in tables]).to_pandas()
