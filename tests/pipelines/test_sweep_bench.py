"""The sweep benchmark runs end to end on a small grid (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import sweeps


@pytest.mark.req("DC-21")
def test_dc_21_sweep_benchmark_times_workers_and_each_shards_overhead(tmp_path):
    out = tmp_path / "s.json"
    assert sweeps.main(["--symbols", "3", "--bars", "300", "--shards", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["points"] == 56 and result["merged_equals_unsharded"] is True
    assert set(result["seconds"]) == {"workers_1", "workers_2", "compute_in_process"}
    assert result["speedup_workers_2"] > 0
    assert [s["rows"] for s in result["shards"]] == [28, 28]
    assert all(s["import_seconds"] > 0 and s["load_seconds"] > 0 for s in result["shards"])
