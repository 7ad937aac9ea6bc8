"""Dataset parts sized for reading: every symbol of a period in one part; the old layout still loads (DC-34)."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from tradeops.cli.data import gap_summary
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.fields import FIELDS
from tradeops.data.imports import bars_to_frames, import_file
from tradeops.data.load import frame_to_bars
from tradeops.data.samples import synthetic
from tradeops.errors import DataError
from tradeops.store.objects import FolderObjectStore

pytestmark = pytest.mark.req("DC-34")


def many(symbols: int = 40, bars: int = 600):
    """Business-day bars of many symbols (600 bars: 2015-01-02 .. 2017-04-20, three calendar years)."""
    return frame_to_bars(synthetic(symbols=symbols, bars=bars, seed=5), source="synthetic")


def same_bars(one, other) -> bool:
    return (
        one.symbols == other.symbols
        and np.array_equal(one.index.to_numpy(dtype="datetime64[ns]"), other.index.to_numpy(dtype="datetime64[ns]"))
        and all(np.array_equal(getattr(one, f), getattr(other, f)) for f in FIELDS)
    )


def documented_hash(bars, timeframe: str) -> str:
    """The version hash as docs/market-data.md defines it: the timeframe, then each symbol, its times (ns), values."""
    digest = hashlib.sha256(timeframe.encode())
    stamps = bars.index.to_numpy(dtype="datetime64[ns]").astype("int64").tobytes()
    for column, symbol in sorted(enumerate(bars.symbols), key=lambda item: item[1]):
        digest.update(b"\x1e" + symbol.encode() + b"\x1f" + stamps)
        for field in FIELDS:
            digest.update(np.ascontiguousarray(getattr(bars, field)[:, column]).tobytes())
    return digest.hexdigest()


def test_dc_34_many_symbols_are_one_part_per_year_and_load_as_the_same_bars(objects):
    bars = many()
    manifest, _ = DatasetStore(objects).write("many-1d", bars, timeframe="1d", source="test")
    assert len(manifest.parts) == 3  # 2015, 2016, 2017: not 40 symbols x 3 years
    assert all(part.symbols == list(bars.symbols) and part.symbol is None for part in manifest.parts)
    assert sum(part.bars for part in manifest.parts) == manifest.bars == 40 * 600
    loaded = load_bars(manifest.ref, objects=objects)
    assert same_bars(loaded, bars) and loaded.origin is not None and loaded.origin.version == manifest.version


def test_dc_34_equal_bars_give_the_documented_hash_whether_written_as_bars_or_frames(tmp_path):
    bars = many(symbols=5, bars=300)
    store = DatasetStore(FolderObjectStore(tmp_path))
    from_bars, created = store.write("h-1d", bars, timeframe="1d", source="test")
    from_frames, created_again = store.write("h-1d", bars_to_frames(bars), timeframe="1d", source="test")
    assert created and not created_again and from_frames == from_bars
    assert from_bars.sha256 == documented_hash(bars, "1d") and from_bars.version == from_bars.sha256[:16]


def test_dc_34_a_symbol_listed_later_is_only_in_the_parts_of_its_years(tmp_path):
    bars = many(symbols=3, bars=600)
    frames = bars_to_frames(bars)
    frames["SYN002"] = frames["SYN002"][frames["SYN002"]["timestamp"] >= "2016-01-01"].reset_index(drop=True)
    manifest, _ = DatasetStore(FolderObjectStore(tmp_path)).write("later-1d", frames, timeframe="1d", source="t")
    assert [part.symbols for part in manifest.parts] == [["SYN000", "SYN001"], *[["SYN000", "SYN001", "SYN002"]] * 2]
    long = DatasetStore(FolderObjectStore(tmp_path)).read(manifest)
    for symbol, frame in frames.items():
        stored = long[long["symbol"] == symbol]
        assert np.array_equal(stored["timestamp"].to_numpy(), frame["timestamp"].to_numpy())
        assert np.array_equal(stored["close"].to_numpy(), frame["close"].to_numpy())


def write_per_symbol_per_year(objects, name: str, bars, timeframe: str) -> str:
    """Store `bars` as versions were stored before issue 29: one zstd part per symbol and calendar year, a
    `symbol` named in the manifest (not in the part), a gap list per symbol; return the reference."""
    frames, parts = bars_to_frames(bars), []
    for symbol, frame in sorted(frames.items()):
        for _, chunk in frame.groupby(frame["timestamp"].dt.year):
            buffer = io.BytesIO()
            chunk.reset_index(drop=True).to_parquet(buffer, index=False, compression="zstd")
            data = buffer.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            key = f"datasets/{name}/parts/{digest}.parquet"
            objects.put(key, data)
            first, last = chunk["timestamp"].iloc[[0, -1]]
            parts.append(
                {"symbol": symbol, "key": key, "sha256": digest, "bytes": len(data), "bars": len(chunk)}
                | {"first": first.isoformat(), "last": last.isoformat()}
            )
    sha = documented_hash(bars, timeframe)
    gaps = {"symbols": {s: {"missing_bars": 2, "gaps": [{"after": "x", "before": "y", "missing": 2}]} for s in frames}}
    manifest = {
        "dataset": name,
        "version": sha[:16],
        "sha256": sha,
        "timeframe": timeframe,
        "symbols": sorted(frames),
        "first": bars.index[0].isoformat(),
        "last": bars.index[-1].isoformat(),
        "bars": bars.n_bars * bars.n_symbols,
        "gaps": {"missing_bars": 2 * len(frames)} | gaps,
        "source": "test",
        "fetched_at": "2024-01-01T00:00:00+00:00",
        "created_at": "2024-01-01T00:00:00+00:00",
        "parts": parts,
    }
    objects.put(f"datasets/{name}/versions/{sha[:16]}/manifest.json", json.dumps(manifest).encode())
    return f"dataset:{name}@{sha[:16]}"


def test_dc_34_a_version_stored_one_symbol_per_part_still_loads_and_keeps_its_version(objects):
    bars = many(symbols=4, bars=600)
    reference = write_per_symbol_per_year(objects, "old-1d", bars, "1d")
    store = DatasetStore(objects)
    (old,) = store.versions("old-1d")
    assert len(old.parts) == 12 and {part.symbol for part in old.parts} == set(bars.symbols)
    assert gap_summary(old).startswith("8 missing bar(s) in 4 listed gap(s) across 4 symbol(s)")  # its own lists
    assert same_bars(load_bars(reference, objects=objects), bars)
    assert same_bars(load_bars("dataset:old-1d", objects=objects), bars)  # the pointer is written from a scan
    again, created = store.write("old-1d", bars, timeframe="1d", source="test")  # equal bars: that version, as it is
    assert not created and again == old and str(reference).endswith(again.version)


def test_dc_34_loading_validates_every_symbol_and_names_the_row_as_before(tmp_path):
    frame = synthetic(symbols=3, bars=50, seed=2)
    frame.loc[120, "high"] = frame.loc[120, "low"] / 2  # SYN002's 21st bar (rows are symbol by symbol)
    frame.loc[[10, 11], "timestamp"] = frame.loc[[11, 10], "timestamp"].to_numpy()  # SYN000 out of order
    with pytest.raises(DataError, match=r"2 invalid value\(s\)") as error:
        frame_to_bars(frame, source="f.csv")
    lines = str(error.value).splitlines()[1:]
    assert lines[0].strip().startswith("row 12 (") and "earlier than the row before" in lines[0]
    assert any(line.strip().startswith("row 121 (") and "high is below" in line for line in lines)
    shuffled = synthetic(symbols=3, bars=50, seed=2).sample(frac=1.0, random_state=1)
    with pytest.raises(DataError, match="data is not sorted"):
        frame_to_bars(shuffled, source="s.csv")
    uneven = synthetic(symbols=3, bars=50, seed=2).drop(index=[60])
    with pytest.raises(DataError, match=r"symbols SYN000 and SYN001 have different timelines \(1 timestamp"):
        frame_to_bars(uneven, source="u.csv")
    by_time = synthetic(symbols=3, bars=50, seed=2).sort_values(["timestamp", "symbol"], kind="stable")
    assert same_bars(
        frame_to_bars(by_time, source="t"), frame_to_bars(synthetic(symbols=3, bars=50, seed=2), source="t")
    )


def test_dc_34_an_import_of_many_symbols_loads_as_the_file_does(tmp_path):
    path = tmp_path / "many.csv"
    synthetic(symbols=30, bars=300, seed=9).to_csv(path, index=False, date_format="%Y-%m-%d")
    objects = FolderObjectStore(tmp_path / "objects")
    imported = import_file(DatasetStore(objects), path, dataset="many-1d")
    assert len(imported.manifest.parts) == 2  # 2015 and 2016
    assert same_bars(load_bars(imported.manifest.ref, objects=objects), load_bars(str(path)))
    assert pd.Timestamp(imported.manifest.first) == pd.Timestamp("2015-01-02")
