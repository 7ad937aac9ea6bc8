"""Datasets: immutable content-hashed versions on the folder store and on real S3, read by name."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore, parse_ref
from tradeops.data.imports import bars_to_frames, detect_time_unit, import_file
from tradeops.data.window import Window, window_from_options
from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.engine.result import result_to_dict
from tradeops.errors import DataError
from tradeops.store.objects import FolderObjectStore, S3ObjectStore
from tradeops.strategies import get_strategy

pytestmark = pytest.mark.req("DC-14")


@pytest.fixture(params=["folder", "s3"])
def objects(request, tmp_path):
    if request.param == "folder":
        return FolderObjectStore(tmp_path / "objects")
    bucket = request.getfixturevalue("s3_bucket")
    return S3ObjectStore(bucket, "desk", request.getfixturevalue("s3_server"))


def goog_frames(goog, stop: int) -> dict[str, pd.DataFrame]:
    return bars_to_frames(goog.head(stop))


def test_dc_14_versions_are_content_hashes_immutable_and_readable_after_newer_ones(objects, goog):
    store = DatasetStore(objects)
    first, created = store.write("goog-1d", goog_frames(goog, 500), timeframe="1d", source="test")
    again, created_again = store.write("goog-1d", goog_frames(goog, 500), timeframe="1d", source="test")
    second, _ = store.write("goog-1d", goog_frames(goog, 800), timeframe="1d", source="test")
    assert created and not created_again and again == first
    assert first.version != second.version and len(first.version) == 16
    assert [m.version for m in store.versions("goog-1d")] == [first.version, second.version]
    old = load_bars(f"dataset:goog-1d@{first.version}", objects=objects)
    latest = load_bars("dataset:goog-1d", objects=objects)
    assert old.n_bars == 500 and latest.n_bars == 800
    assert old.close.tobytes() == goog.close[:500].tobytes()
    # Parts of whole years are shared: the second version stored only what changed.
    shared = {p.key for p in first.parts} & {p.key for p in second.parts}
    assert shared and all(p.sha256 in p.key for p in second.parts)
    assert store.names() == ["goog-1d"]


def test_dc_14_an_interrupted_write_is_invisible_and_a_corrupt_part_is_refused(objects, goog, monkeypatch):
    store = DatasetStore(objects)
    good, _ = store.write("goog-1d", goog_frames(goog, 400), timeframe="1d", source="test")
    real_put = objects.put

    def dies_at_the_manifest(key, data, content_type="application/octet-stream"):
        if key.endswith("manifest.json"):
            raise OSError("disk full")
        real_put(key, data, content_type)

    monkeypatch.setattr(objects, "put", dies_at_the_manifest)
    with pytest.raises(OSError):
        store.write("goog-1d", goog_frames(goog, 900), timeframe="1d", source="test")
    monkeypatch.setattr(objects, "put", real_put)
    assert [m.version for m in store.versions("goog-1d")] == [good.version]
    assert load_bars("dataset:goog-1d", objects=objects).n_bars == 400
    assert store.orphan_parts("goog-1d")  # the parts the dead write left, for cleanup
    objects.put(good.parts[0].key, b"not the bars")
    with pytest.raises(DataError, match=r"dataset:goog-1d@[0-9a-f]{16}: part .* is corrupt"):
        load_bars(f"dataset:goog-1d@{good.version}", objects=objects)


def test_dc_14_deleting_a_version_keeps_the_parts_other_versions_use(tmp_path, goog):
    store = DatasetStore(FolderObjectStore(tmp_path))
    first, _ = store.write("goog-1d", goog_frames(goog, 500), timeframe="1d", source="test")
    second, _ = store.write("goog-1d", goog_frames(goog, 800), timeframe="1d", source="test")
    removed = store.delete_version("goog-1d", first.version)
    assert removed.endswith(f"{first.version}/manifest.json") and store.orphan_parts("goog-1d")
    for key in store.orphan_parts("goog-1d"):
        store.objects.delete(key)
    assert load_bars(f"dataset:goog-1d@{second.version}", objects=store.objects).n_bars == 800


def test_dc_14_bad_references_get_one_clear_line(tmp_path, goog):
    objects = FolderObjectStore(tmp_path)
    with pytest.raises(DataError, match="no such dataset"):
        load_bars("dataset:nothing", objects=objects)
    DatasetStore(objects).write("goog-1d", goog_frames(goog, 100), timeframe="1d", source="test")
    with pytest.raises(DataError, match=r"no such version .*versions: [0-9a-f]{16}"):
        load_bars("dataset:goog-1d@0123456789abcdef", objects=objects)
    with pytest.raises(DataError, match="not 16 hex digits"):
        parse_ref("dataset:goog-1d@latest")
    with pytest.raises(DataError, match="dataset name 'GOOG'"):
        parse_ref("dataset:GOOG")


def test_dc_14_gaps_are_reported_in_the_manifest_never_filled(tmp_path, goog):
    frames = goog_frames(goog, 200)
    frames["GOOG"] = frames["GOOG"].drop(index=[50, 51, 52]).reset_index(drop=True)
    manifest, _ = DatasetStore(FolderObjectStore(tmp_path)).write("g", frames, timeframe="1d", source="t")
    assert manifest.bars == 197
    assert manifest.gaps["missing_bars"] > 0  # weekends count too: a daily timeframe misses them
    largest = manifest.gaps["symbols"]["GOOG"]["largest"]  # a count and the largest; all of them: data show --gaps
    assert largest["after"] == frames["GOOG"]["timestamp"].iloc[49].isoformat() and largest["missing"] >= 3
    assert manifest.gaps["largest"] == {"symbol": "GOOG", **largest} and manifest.gaps["count"] > 1


def test_dc_14_an_epoch_ms_import_equals_the_file_it_came_from_apart_from_the_ref(tmp_path, goog):
    frame = pd.DataFrame({"timestamp": goog.index[:400].as_unit("ms").asi8})
    for field in ("open", "high", "low", "close", "volume"):
        frame[field] = getattr(goog, field)[:400, 0]
    path = tmp_path / "goog-ms.csv"
    frame.to_csv(path, index=False)
    iso = tmp_path / "goog.csv"
    frame.assign(timestamp=goog.index[:400].strftime("%Y-%m-%dT%H:%M:%S")).to_csv(iso, index=False)
    objects = FolderObjectStore(tmp_path / "objects")
    imported = import_file(DatasetStore(objects), path, dataset="goog-1d", symbol="goog")
    assert imported.time_reading.startswith("epoch milliseconds (detected")
    strategy = get_strategy("sma_cross")
    params = strategy.Params(fast=10, slow=30)

    def run(reference):
        bars = load_bars(reference, objects=objects)
        return result_to_dict(run_backtest(strategy, params, bars, ExecutionSettings()))

    from_dataset = run(f"dataset:goog-1d@{imported.manifest.version}")
    from_file = run(str(iso))  # its symbol is its stem, "goog", as imported
    assert from_dataset["data"]["version"] == imported.manifest.version and from_file["data"]["dataset"] is None
    for payload in (from_dataset, from_file):
        for key in ("name", "ref", "dataset", "version", "sha256"):
            payload["data"].pop(key)
    assert json.dumps(from_dataset, sort_keys=True) == json.dumps(from_file, sort_keys=True)


def test_dc_14_time_units_are_told_apart_by_magnitude():
    assert detect_time_unit(np.array([1.7e9])) == "s"
    assert detect_time_unit(np.array([1.7e12])) == "ms"
    assert detect_time_unit(np.array([1.7e15])) == "us"
    assert detect_time_unit(np.array([1.7e18])) == "ns"
    with pytest.raises(DataError):
        detect_time_unit(np.array([np.nan]))


def test_dc_14_a_window_keeps_recent_bars_and_refuses_an_empty_one(goog):
    assert Window(last_bars=100).apply(goog).n_bars == 100
    kept = Window(last_days=30).apply(goog)
    assert (kept.index[-1] - kept.index[0]).days <= 30 and kept.index[-1] == goog.index[-1]
    window = window_from_options("2010-01-01", "2010-12-31")
    assert window is not None
    year = window.apply(goog)
    assert year.index[0].year == 2010 and year.index[-1].year == 2010
    with pytest.raises(DataError, match="leaves 0 bar"):
        Window(start="2030-01-01").apply(goog)
    with pytest.raises(DataError, match="--start"):
        window_from_options("yesterday-ish", None)
    with pytest.raises(ValueError, match="not both"):
        Window(last_bars=5, last_days=5)
