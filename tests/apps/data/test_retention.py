"""Dataset retention in `tradeops cleanup`: never a version a verdict or a deployed candidate references."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.apps.data.test_datasets import goog_frames
from tradeops.cleanup import CleanupPolicy, run_cleanup
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.releases import ReleaseStore
from tradeops.store import RunStore
from tradeops.store.objects import FolderObjectStore, S3ObjectStore

pytestmark = pytest.mark.req("DC-14")


def backdate(objects, manifest, days: float) -> None:
    key = f"datasets/{manifest.dataset}/versions/{manifest.version}/manifest.json"
    raw = json.loads(objects.get(key))
    raw["created_at"] = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")
    objects.put(key, json.dumps(raw).encode())


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_dc_14_retention_never_removes_a_referenced_or_newest_version(where, tmp_path, goog, request):
    if where == "folder":
        objects = FolderObjectStore(tmp_path / "objects")
    else:
        objects = S3ObjectStore(request.getfixturevalue("s3_bucket"), "desk", request.getfixturevalue("s3_server"))
    store = DatasetStore(objects)
    versions = [
        store.write("goog-1d", goog_frames(goog, 300 + 100 * i), timeframe="1d", source="t")[0] for i in range(6)
    ]
    for age, manifest in zip((90, 80, 70, 60, 50, 40), versions, strict=True):
        backdate(objects, manifest, age)
    judged, pinned = versions[0], versions[1]
    bars = load_bars(f"dataset:goog-1d@{judged.version}", objects=objects)
    releases = ReleaseStore(objects)
    releases.save_verdict("prod", "v1", {"passed": True, "exit_code": 0, "data": bars.provenance()})
    objects.put(
        "releases/staging/r1.json",
        json.dumps(
            {"id": "r1", "stack": "staging", "config": {"candidate": {"data": f"dataset:goog-1d@{pinned.version}"}}}
        ).encode(),
    )
    runs = RunStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    policy = CleanupPolicy(dataset_days=30, dataset_keep_versions=3)
    preview = run_cleanup(runs, objects, policy, dry_run=True)
    assert [m.version for m in store.versions("goog-1d")] == [m.version for m in versions]
    report = run_cleanup(runs, objects, policy)
    kept = {m.version for m in store.versions("goog-1d")}
    assert kept == {judged.version, pinned.version, *(m.version for m in versions[3:])}
    removed = {item["what"] for item in report.removed}
    assert f"dataset {versions[2].ref}" in removed and removed >= {item["what"] for item in preview.removed}
    whys = {item["what"]: item["why"] for item in report.kept}
    assert whys[f"dataset {judged.ref}"].startswith("referenced by verdict")
    assert whys[f"dataset {pinned.ref}"] == "referenced by the candidate of stack staging"
    for manifest in store.versions("goog-1d"):  # what stays is whole: every part still there and intact
        assert load_bars(f"dataset:goog-1d@{manifest.version}", objects=objects).n_bars == manifest.bars
    runs.close()


def test_dc_14_cleanup_leaves_parts_of_a_write_in_progress_and_removes_a_dead_writes_parts(tmp_path, goog):
    objects = FolderObjectStore(tmp_path / "objects")
    store = DatasetStore(objects)
    store.write("goog-1d", goog_frames(goog, 300), timeframe="1d", source="t")
    objects.put("datasets/goog-1d/parts/deadbeef.parquet", b"half a write")
    objects.put(
        "datasets/goog-1d/pending/0123456789abcdef.json",
        json.dumps({"started_at": datetime.now(UTC).isoformat()}).encode(),
    )
    runs = RunStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    report = run_cleanup(runs, objects, CleanupPolicy())
    assert "datasets/goog-1d/parts/deadbeef.parquet" in objects.keys("datasets/")
    assert {"what": "dataset goog-1d parts", "why": "a write is in progress"} in report.kept
    old = (datetime.now(UTC) - timedelta(hours=7)).isoformat()
    objects.put("datasets/goog-1d/pending/0123456789abcdef.json", json.dumps({"started_at": old}).encode())
    report = run_cleanup(runs, objects, CleanupPolicy())
    assert "datasets/goog-1d/parts/deadbeef.parquet" not in objects.keys("datasets/")
    assert not store.writes_in_flight("goog-1d")
    assert load_bars("dataset:goog-1d", objects=objects).n_bars == 300
    runs.close()
