"""The latest-version benchmark runs end to end on a few versions (it counts reads; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import latest_version


@pytest.mark.req("DC-31")
def test_dc_31_latest_version_bench_counts_one_read_for_the_pointer_and_one_per_version_for_the_scan(tmp_path, capsys):
    out = tmp_path / "latest.json"
    latest_version.main(["--versions", "1,4,12", "--repeats", "2", "--out", str(out)])
    result = json.loads(out.read_text())
    assert [case["versions"] for case in result["cases"]] == [1, 4, 12]
    for case in result["cases"]:
        assert case["pointer"]["reads"] == 1 and case["latest manifest"]["reads"] == 2
        assert case["scan"]["reads"] == 1 + case["versions"] and case["pointer_agrees_with_scan"]
        assert all(case[name]["seconds"] >= 0 for name in ("pointer", "latest manifest", "scan"))
    assert "12 version(s): pointer 1 read(s)" in capsys.readouterr().out
