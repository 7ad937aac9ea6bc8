"""Every data reference pinned to one version; the latest version in one read (DC-31).

Reads are counted by a wrapper around the real folder store (the bench's `CountingObjects`).
"""

from __future__ import annotations

import json
import logging

import pytest
from pipelines.bench.latest_version import DATASET, CountingObjects, grow, hourly_bars

from tradeops.data import load_bars
from tradeops.data.datasets import DatasetRef, DatasetStore, Manifest
from tradeops.data.imports import bars_to_frames
from tradeops.data.pinning import pin
from tradeops.errors import DataError
from tradeops.gate import run_gate, validate_candidate
from tradeops.store.objects import FolderObjectStore

pytestmark = pytest.mark.req("DC-31")


def publish(store: DatasetStore, goog, stop: int) -> Manifest:
    manifest, created = store.write("goog-1d", bars_to_frames(goog.head(stop)), timeframe="1d", source="test")
    assert created
    return manifest


def test_dc_31_the_latest_version_is_one_read_at_1_100_and_1000_versions(tmp_path):
    counting = CountingObjects(FolderObjectStore(tmp_path / "objects"))
    store = DatasetStore(counting)
    bars, written = hourly_bars(1000), 0
    for versions in (1, 100, 1000):
        grow(store, bars, written, versions)
        written = versions
        counting.requests.clear()
        latest = store.latest(DATASET)
        assert dict(counting.requests) == {"get": 1}
        counting.requests.clear()
        manifest = store.manifest(DatasetRef(DATASET))  # the pointer, then the manifest it names
        assert dict(counting.requests) == {"get": 2}
        counting.requests.clear()
        scanned = store.versions(DATASET)
        assert counting.requests == {"list": 1, "get": versions}  # what every lookup cost before the pointer
        assert len(scanned) == versions and latest.version == manifest.version == scanned[-1].version
        assert latest.sha256 == scanned[-1].sha256 and manifest.bars == versions


def test_dc_31_a_pointer_to_a_missing_manifest_falls_back_to_a_scan_and_says_so(tmp_path, goog, caplog):
    objects = CountingObjects(FolderObjectStore(tmp_path))
    store = DatasetStore(objects)
    first, second = publish(store, goog, 400), publish(store, goog, 600)
    objects.delete(f"datasets/goog-1d/versions/{second.version}/manifest.json")  # lost outside our code
    with caplog.at_level(logging.WARNING, logger="tradeops.data.datasets"):
        found = store.manifest(DatasetRef("goog-1d"))
    assert found == first
    assert f"dataset:goog-1d@{second.version}: latest.json names a manifest that is missing" in caplog.text
    assert f"scanned 1 version(s) instead: the latest is dataset:goog-1d@{first.version}" in caplog.text
    caplog.clear()
    objects.requests.clear()
    assert store.latest("goog-1d").version == first.version  # the pointer was written again: one read, no scan
    assert dict(objects.requests) == {"get": 1} and not caplog.text
    assert load_bars("dataset:goog-1d", objects=objects).n_bars == 400


def test_dc_31_a_dataset_written_before_pointers_is_scanned_once_and_gets_its_pointer(tmp_path, goog, caplog):
    objects = FolderObjectStore(tmp_path)
    store = DatasetStore(objects)
    publish(store, goog, 300)
    newest = publish(store, goog, 500)
    objects.delete("datasets/goog-1d/latest.json")  # as every dataset written before this change is
    with caplog.at_level(logging.WARNING, logger="tradeops.data.datasets"):
        assert store.latest("goog-1d").version == newest.version
    assert "dataset:goog-1d: no latest.json pointer" in caplog.text and "scanned 2 version(s)" in caplog.text
    assert json.loads(objects.get("datasets/goog-1d/latest.json"))["version"] == newest.version
    with pytest.raises(DataError, match="dataset:nothing: no such dataset"):
        store.latest("nothing")


def test_dc_31_an_older_writer_finishing_late_never_moves_the_pointer_back(tmp_path, goog):
    objects = FolderObjectStore(tmp_path)
    store = DatasetStore(objects)
    newer: list[Manifest] = []
    stalled: list[str] = []
    real_put = objects.put

    def newer_writer_finishes_first(key, data, content_type="application/octet-stream"):
        real_put(key, data, content_type)
        if key.endswith("/manifest.json") and not stalled:  # the older write stalls after its manifest...
            stalled.append(key)
            newer.append(publish(store, goog, 900))  # ...while a newer one is written, pointer and all

    objects.put = newer_writer_finishes_first  # type: ignore[method-assign]
    older = publish(store, goog, 700)  # started first, finishes last
    objects.put = real_put  # type: ignore[method-assign]
    assert older.created_at < newer[0].created_at
    assert store.latest("goog-1d").version == newer[0].version
    assert [m.version for m in store.versions("goog-1d")] == [older.version, newer[0].version]


def test_dc_31_deleting_the_latest_version_points_at_the_newest_left(tmp_path, goog, caplog):
    store = DatasetStore(FolderObjectStore(tmp_path))
    first, second = publish(store, goog, 300), publish(store, goog, 500)
    store.delete_version("goog-1d", second.version)
    with caplog.at_level(logging.WARNING, logger="tradeops.data.datasets"):
        assert store.latest("goog-1d").version == first.version
    assert not caplog.text  # moved by the delete itself: no fallback needed
    store.delete_version("goog-1d", first.version)
    assert not store.objects.keys("datasets/goog-1d/latest.json")
    with pytest.raises(DataError, match="no such dataset"):
        store.manifest(DatasetRef("goog-1d"))


def test_dc_31_pin_resolves_a_dataset_name_once_and_leaves_samples_as_given(tmp_path, goog):
    objects = FolderObjectStore(tmp_path)
    store = DatasetStore(objects)
    first = publish(store, goog, 400)
    pinned = pin("dataset:goog-1d", objects)
    publish(store, goog, 800)
    assert pinned.reference == f"dataset:goog-1d@{first.version}" and pinned.sha256 == first.sha256
    assert load_bars(pinned.reference, objects=objects).n_bars == 400  # still that version after a newer one
    assert pin(pinned.reference, objects) == pinned.__class__(pinned.reference, pinned.reference, first.sha256)
    assert pin("sample:GOOG").reference == "sample:GOOG" and pin("sample:GOOG").sha256 is None
    with pytest.raises(DataError, match="no such version"):
        pin("dataset:goog-1d@0123456789abcdef", objects)


def test_dc_31_the_gate_verdict_records_name_at_version_and_sha256(tmp_path, goog):
    objects = FolderObjectStore(tmp_path)
    judged = publish(DatasetStore(objects), goog, 1000)
    candidate = validate_candidate(
        {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "dataset:goog-1d"}, "test"
    )
    verdict, result = run_gate(candidate, objects=objects)
    assert verdict.error is None and result is not None
    payload = verdict.to_dict()
    for data in (payload["data"], payload["result"]["data"]):
        assert data["ref"] == f"dataset:goog-1d@{judged.version}"
        assert data["version"] == judged.version and data["sha256"] == judged.sha256
