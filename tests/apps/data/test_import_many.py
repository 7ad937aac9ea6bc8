"""Importing many symbols: one gap line, every gap on request, nothing lost or half-written when it dies (DC-35)."""

from __future__ import annotations

import contextlib
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from tests.apps.cli.test_cli import cli
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.fields import FIELDS
from tradeops.data.imports import import_file
from tradeops.data.load import frame_to_bars
from tradeops.data.quality import check_bars
from tradeops.data.quality_thresholds import CHECK_NAMES
from tradeops.data.samples import synthetic
from tradeops.store.objects import FolderObjectStore, ObjectStoreError

pytestmark = pytest.mark.req("DC-35")


def weekday_csv(path, symbols: int, bars: int) -> pd.DataFrame:
    frame = synthetic(symbols=symbols, bars=bars, seed=4)
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return frame


def test_dc_35_import_prints_one_gap_line_and_show_gaps_lists_every_gap(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "many.csv"
    short = weekday_csv(path, symbols=30, bars=300).drop(index=[40, 41, 42])  # SYN000 loses three days
    short.to_csv(path, index=False, date_format="%Y-%m-%d")
    code, out, err = cli(monkeypatch, capsys, "data", "import", str(path), "--dataset", "many-1d")
    assert (
        code == 2 and "different timelines" in err and "Traceback" not in err
    )  # one symbol short: refused as before, nothing stored
    weekday_csv(path, symbols=30, bars=300)
    code, out, err = cli(monkeypatch, capsys, "data", "import", str(path), "--dataset", "many-1d")
    assert code == 0, err
    steps = np.diff(pd.bdate_range("2015-01-02", periods=300).to_numpy()).astype("timedelta64[D]").astype(int)
    gaps, missing = 30 * int((steps > 1).sum()), 30 * int((steps - 1).sum())  # every weekend and nothing else
    (line,) = [text for text in out.splitlines() if "gaps:" in text]
    assert len(out.splitlines()) == 4 and len(out) < 600 and "30 symbols (SYN000 .. SYN029)" in out
    assert f"{missing:,} missing bar(s) in {gaps:,} gap(s) across 30 symbol(s)" in line
    assert "largest: SYN000 2 bar(s) missing after 2015-01-02T00:00:00" in line and "--gaps" in line
    code, out, _ = cli(monkeypatch, capsys, "data", "show", "many-1d", "--gaps", "--json")
    listed = json.loads(out)["gaps"]
    assert code == 0 and len(listed) == gaps and sum(gap["missing"] for gap in listed) == missing
    assert {gap["symbol"] for gap in listed} == {f"SYN{i:03d}" for i in range(30)}
    code, out, _ = cli(monkeypatch, capsys, "data", "show", "many-1d", "--gaps")
    assert code == 0 and len(out.splitlines()) == gaps + 1 and out.startswith("symbol\tafter\tbefore\tmissing")


def test_dc_35_an_import_that_dies_part_way_stores_no_version_and_a_rerun_stores_it_whole(
    objects, tmp_path, monkeypatch
):
    path = tmp_path / "many.csv"
    weekday_csv(path, symbols=6, bars=700)  # three calendar years: three parts
    store, real_put = DatasetStore(objects), objects.put
    written: list[str] = []

    def dies_on_the_second_part(key, data, content_type="application/octet-stream"):
        if "/parts/" in key and written:
            if isinstance(objects, FolderObjectStore):  # the disk fills half way through the part's bytes
                with contextlib.suppress(OSError):
                    objects.put_stream(key, _half_then_disk_full(data))
            raise ObjectStoreError(f"writing {key} failed")
        written.append(key)
        real_put(key, data, content_type)

    monkeypatch.setattr(objects, "put", dies_on_the_second_part)
    with pytest.raises(ObjectStoreError):
        import_file(store, path, dataset="many-1d")
    monkeypatch.setattr(objects, "put", real_put)
    stored = objects.keys("datasets/")
    assert store.names() == [] and store.versions("many-1d") == []  # no version, no pointer
    parts = [key for key in stored if "/parts/" in key]
    assert parts == [key for key in written if "/parts/" in key]  # the finished part only, whole
    assert not any(".partial-" in key for key in stored)
    if isinstance(objects, FolderObjectStore):
        assert not list((objects.root / "datasets").rglob(".partial-*"))
    imported = import_file(store, path, dataset="many-1d")
    assert imported.created and set(parts) < {part.key for part in imported.manifest.parts}
    clean = import_file(DatasetStore(FolderObjectStore(tmp_path / "clean")), path, dataset="many-1d")
    assert clean.manifest.version == imported.manifest.version
    loaded = load_bars("dataset:many-1d", objects=objects)
    assert loaded.fingerprint() == load_bars(str(path)).fingerprint()
    assert store.orphan_parts("many-1d") == [] and store.writes_in_flight("many-1d") == {}


def _half_then_disk_full(data: bytes):
    yield data[: len(data) // 2]
    raise OSError(28, "No space left on device")


def test_dc_35_quality_checks_of_many_symbols_at_once_equal_each_symbol_checked_alone():
    bars = frame_to_bars(synthetic(symbols=12, bars=400, seed=8), source="t")
    arrays = {field: getattr(bars, field).copy() for field in FIELDS}
    arrays["close"][200, 1] *= 1.9  # a spike the next bar takes back
    arrays["high"][200, 1] = arrays["close"][200, 1]
    arrays["volume"][50:70, 4] = 0.0  # twenty bars of zero volume
    for field in ("open", "high", "low", "close"):  # ten identical bars
        arrays[field][100:110, 7] = arrays["close"][99, 7]
    arrays["high"][300, 9] = arrays["low"][300, 9] / 2  # high below low
    seeded = dataclasses.replace(bars, **arrays)
    together = check_bars(seeded, timeframe="1d")
    alone = [check_bars(_one(seeded, column), timeframe="1d") for column in range(seeded.n_symbols)]
    for name in CHECK_NAMES:
        checked = next(c for c in together.checks if c.name == name)
        each = [next(c for c in report.checks if c.name == name) for report in alone]
        assert checked.count == sum(c.count for c in each), name
        assert checked.where == [place for c in each for place in c.where][: len(checked.where)], name
    assert {c.name for c in together.checks if c.count} == {"spikes", "zero_volume_runs", "stale_runs", "ohlc_errors"}


def _one(bars, column: int):
    fields = {field: getattr(bars, field)[:, column : column + 1].copy() for field in FIELDS}
    return dataclasses.replace(bars, symbols=(bars.symbols[column],), **fields)
