"""Sweeps and studies read the dataset version that was latest when they were submitted (DC-31).

A new version is published between two shards of a submitted sweep, and between two workers of one
study: every shard and trial still reads, and records, the pinned version.
"""

from __future__ import annotations

import json

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.sweeps import test_cluster
from tradeops.data.datasets import DatasetStore, Manifest, open_datasets
from tradeops.data.imports import bars_to_frames
from tradeops.errors import ConfigError
from tradeops.store import RunStore
from tradeops.sweeps.cluster import run_shard
from tradeops.sweeps.optimize import Dimension, Search, open_study, optimize, work
from tradeops.sweeps.parts import merge_parts, run_part
from tradeops.sweeps.spec import SweepSpec

pytestmark = pytest.mark.req("DC-31")
kube, cluster_env = test_cluster.kube, test_cluster.cluster_env  # the fake API server, S3 and a deployed release


def publish(store: DatasetStore, goog, stop: int) -> Manifest:
    manifest, created = store.write("goog-1d", bars_to_frames(goog.head(stop)), timeframe="1d", source="test")
    assert created
    return manifest


def test_dc_31_a_version_published_between_two_shards_leaves_the_sweep_on_its_pinned_version(
    monkeypatch, capsys, kube, cluster_env, tmp_path, goog
):
    store = DatasetStore(cluster_env)
    submitted = publish(store, goog, 1200)
    args = ["sweep", "submit", "--stack", "dev", "--shards", "2", "-s", "sma_cross", "-d", "dataset:goog-1d"]
    args += test_cluster.GRID
    code, out, err = cli(monkeypatch, capsys, *args, "--kubernetes-host", kube.url, "--json")
    assert code == 0, err
    sweep_id = json.loads(out)["id"]
    run_shard(cluster_env, sweep_id, 0)
    newer = publish(store, goog, 1500)  # the hourly sync lands between the shards
    run_shard(cluster_env, sweep_id, 1)
    code, out, err = cli(monkeypatch, capsys, "sweep", "collect", sweep_id, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["data"]["version"] == f"dataset:goog-1d@{submitted.version}" != newer.ref
    assert result["merge"]["data"]["ref"] == submitted.ref and result["merge"]["rows"] == 8
    runs = RunStore(f"sqlite:///{tmp_path / 'data' / 'tradeops.db'}")
    run = runs.get(sweep_id)
    runs.close()
    assert run is not None and run.status == "done" and run.data_ref == submitted.ref


def test_dc_31_collect_refuses_parts_that_read_different_versions_and_names_them(tmp_path, goog, monkeypatch):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    store = open_datasets()
    first = publish(store, goog, 800)
    spec = SweepSpec(strategy="sma_cross", data="dataset:goog-1d", grid={"fast": [5, 10], "slow": [30, 40]})
    zero = run_part(spec, 0, 2)  # a spec never pinned (stored before pinning existed) reads the latest...
    second = publish(store, goog, 900)
    one = run_part(spec, 1, 2)  # ...which moved under it
    assert zero.manifest.data_version == first.ref and one.manifest.data_version == second.ref
    with pytest.raises(ConfigError, match=f"shard 1: foreign part: its data version \\({second.ref}\\) differs"):
        merge_parts([("shard 0", zero), ("shard 1", one)])


def test_dc_31_every_trial_of_a_study_records_the_version_pinned_when_it_was_created(tmp_path, goog, monkeypatch):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    store = open_datasets()
    pinned = publish(store, goog, 900)
    space = (
        Dimension(name="fast", low=2, high=20, integer=True),
        Dimension(name="slow", low=25, high=60, integer=True),
    )
    search = Search(
        strategy="sma_cross",
        data="dataset:goog-1d",
        space=space,
        study="pinned",
        storage=f"sqlite:///{tmp_path / 'tradeops.db'}",
        seed=4,
    )
    study, bound = optimize(search, 3)
    assert bound.data == pinned.ref and study.user_attrs == {"data": pinned.ref, "data_sha256": pinned.sha256}
    newer = publish(store, goog, 1200)  # published mid-study
    work(search.model_dump_json(), 6)  # a worker joining late, given the reference as the user typed it
    trials = open_study(search).trials
    assert len(trials) >= 6
    assert {(t.user_attrs["data"], t.user_attrs["data_sha256"]) for t in trials} == {(pinned.ref, pinned.sha256)}
    with pytest.raises(ConfigError, match=f"study pinned reads {pinned.ref}, not {newer.ref}"):
        work(search.model_copy(update={"data": newer.ref}).model_dump_json(), 8)
