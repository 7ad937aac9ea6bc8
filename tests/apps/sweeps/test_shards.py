"""Shards of a sweep or walk-forward merge, row for row, into what the unsharded run gives (DC-21)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apps.cli.test_cli import cli
from tradeops.engine import run_grid
from tradeops.engine.walkforward import walk_forward, walk_forward_to_dict
from tradeops.errors import ConfigError
from tradeops.sweeps.local import run_sharded, walkforward_payload
from tradeops.sweeps.parts import merge_parts, part_from_bytes, part_to_bytes, prepare, run_part
from tradeops.sweeps.spec import SweepSpec, parse_shard, split_by_cost

ONE = "sample:synthetic?bars=260&seed=7"
MANY = "sample:synthetic?bars=260&symbols=4&seed=11"


def spec_of(data: str, fast: list[int], slow: list[int], **extra: object) -> SweepSpec:
    return SweepSpec(strategy="sma_cross", data=data, grid={"fast": fast, "slow": slow}, **extra)


def sharded(spec: SweepSpec, shards: int) -> pd.DataFrame:
    """Every shard through its Parquet part file, merged from a shuffled order."""
    parts = [run_part(spec, i, shards) for i in range(shards)]
    files = [(f"part-{p.manifest.shard}.parquet", part_from_bytes("x", part_to_bytes(p))) for p in parts]
    return merge_parts(files[::-1]).table


@pytest.mark.req("DC-21")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.sampled_from([ONE, MANY]),
    fast=st.lists(st.integers(2, 30), min_size=1, max_size=5, unique=True),
    slow=st.lists(st.integers(10, 80), min_size=1, max_size=5, unique=True),
    shards=st.integers(1, 7),
    commission=st.sampled_from([0.0, 0.001]),
)
def test_dc_21_sharded_and_merged_equals_unsharded_over_random_grids(data, fast, slow, shards, commission):
    spec = spec_of(data, fast, slow, settings={"commission": commission})
    ready = prepare(spec) if any(f < s for f in fast for s in slow) else None
    if ready is None:
        return  # every point invalid: the sweep is refused before any shard runs (tested below)
    shards = min(shards, len(ready.points))
    whole = run_grid(ready.strategy, ready.points, ready.bars, ready.settings)
    pd.testing.assert_frame_equal(sharded(spec, shards), whole, check_exact=True)


@pytest.mark.req("DC-21")
def test_dc_21_split_is_contiguous_deterministic_and_balanced_by_cost():
    costs = [1.0] * 10 + [10.0] * 3
    ranges = split_by_cost(costs, 3)
    assert ranges == split_by_cost(costs, 3)
    assert [list(r) for r in ranges] == [list(range(0, 11)), [11], [12]]
    assert [len(r) for r in split_by_cost([1.0] * 10, 4)] == [3, 2, 3, 2]
    assert sum(len(r) for r in split_by_cost([5.0, 1.0, 1.0], 3)) == 3 and all(split_by_cost([5.0, 1.0, 1.0], 3))
    with pytest.raises(ConfigError, match="4 shard"):
        split_by_cost([1.0, 1.0], 4)
    assert parse_shard("2/5") == (2, 5)
    for bad in ("5/5", "x/2", "1", "-1/3"):
        with pytest.raises(ConfigError, match="--shard"):
            parse_shard(bad)


@pytest.mark.req("DC-21")
def test_dc_21_missing_doubled_and_foreign_parts_are_refused_by_name():
    spec = spec_of(ONE, [3, 5, 8], [20, 30])
    parts = [(f"p{i}.parquet", run_part(spec, i, 3)) for i in range(3)]
    with pytest.raises(ConfigError, match=r"missing part\(s\): shard 1/3"):
        merge_parts([parts[0], parts[2]])
    with pytest.raises(ConfigError, match=r"again\.parquet: doubled part: shard 2/3 is also p2\.parquet"):
        merge_parts([*parts, ("again.parquet", parts[2][1])])
    other_grid = ("grid.parquet", run_part(spec_of(ONE, [3, 5, 9], [20, 30]), 1, 3))
    with pytest.raises(ConfigError, match=r"grid\.parquet: foreign part: its grid/options"):
        merge_parts([parts[0], other_grid, parts[2]])
    other_data = ("data.parquet", run_part(spec_of("sample:synthetic?bars=260&seed=8", [3, 5, 8], [20, 30]), 1, 3))
    with pytest.raises(ConfigError, match=r"data\.parquet: foreign part"):
        merge_parts([parts[0], other_data, parts[2]])
    engine = parts[1][1]
    changed = type(engine)(engine.table, engine.manifest.model_copy(update={"engine_version": "tradeops 9"}))
    with pytest.raises(ConfigError, match=r"engine\.parquet: foreign part: its engine_version"):
        merge_parts([parts[0], ("engine.parquet", changed), parts[2]])
    with pytest.raises(ConfigError, match=r"x\.parquet: not a Parquet file"):
        part_from_bytes("x.parquet", b"not parquet")
    plain = pd.DataFrame({"a": [1]}).to_parquet()
    with pytest.raises(ConfigError, match=r"plain\.parquet: not a sweep part"):
        part_from_bytes("plain.parquet", plain)


@pytest.mark.req("DC-21")
@pytest.mark.parametrize("data", [ONE, MANY])
def test_dc_21_walkforward_sharded_by_fold_equals_the_unsharded_walkforward(data):
    spec = spec_of(data, [3, 5, 8], [15, 30], train_bars=60, test_bars=40, anchored=True, kind="walkforward")
    ready = prepare(spec)
    whole = walk_forward(
        ready.strategy, ready.points, ready.bars, ready.settings, train_bars=60, test_bars=40, anchored=True
    )
    parts = [(f"w{i}", run_part(spec, i, 3)) for i in range(3)]
    # anchored folds cost 120, 200, 280, 360, 440 (points x history): 3 cheap folds, then 1 and 1
    assert [p.manifest.items for _, p in parts] == [(0, 3), (3, 4), (4, 5)]
    assert walkforward_payload(merge_parts(parts)) == walk_forward_to_dict(whole)


@pytest.mark.req("DC-21")
def test_dc_21_workers_run_the_shards_as_processes_and_merge_the_same_table():
    spec = spec_of(MANY, [3, 5, 8, 12], [20, 40])
    ready = prepare(spec)
    merged = run_sharded(spec, 2)
    assert merged.manifest.shards == 2
    pd.testing.assert_frame_equal(
        merged.table, run_grid(ready.strategy, ready.points, ready.bars, ready.settings), check_exact=True
    )


@pytest.mark.req("DC-21")
def test_dc_21_cli_shards_merge_into_the_unsharded_table_with_a_report(monkeypatch, capsys, tmp_path):
    args = ["backtest", "sweep", "-s", "sma_cross", "-d", "sample:GOOG", "-g", "fast=5:20:5", "-g", "slow=30,60"]
    for shard in range(3):
        code, out, _ = cli(
            monkeypatch, capsys, *args, "--shard", f"{shard}/3", "--out", str(tmp_path / f"{shard}.parquet"), "--json"
        )
        assert code == 0 and json.loads(out)["shard"] == shard
    code, *_ = cli(monkeypatch, capsys, *args, "--out", str(tmp_path / "whole.csv"))
    assert code == 0
    parts = [str(tmp_path / f"{s}.parquet") for s in range(3)]
    code, _, err = cli(
        monkeypatch,
        capsys,
        "backtest",
        "merge",
        *parts,
        "--out",
        str(tmp_path / "merged.csv"),
        "--report",
        str(tmp_path / "report.json"),
    )
    assert code == 0 and "merged 3 part(s)" in err
    assert (tmp_path / "merged.csv").read_text() == (tmp_path / "whole.csv").read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["rows"] == 8 and [p["shard"] for p in report["parts"]] == [0, 1, 2]
    assert report["data"]["fingerprint"].startswith("sha256:") and report["engine_version"].startswith("tradeops")
    code, _, err = cli(monkeypatch, capsys, "backtest", "merge", parts[0], parts[2], "--out", str(tmp_path / "x.csv"))
    assert code == 2 and "missing part(s): shard 1/3" in err
    code, _, err = cli(monkeypatch, capsys, "backtest", "merge", str(tmp_path / "nope.parquet"), "--out", "x.csv")
    assert code == 2 and "nope.parquet: no such part file" in err
    code, _, err = cli(monkeypatch, capsys, *args, "--shard", "0/3", "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "--shard needs --out PART.parquet" in err
