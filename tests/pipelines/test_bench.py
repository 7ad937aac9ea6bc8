"""The benchmark harness runs end to end on small sizes (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import engine


@pytest.mark.req("DC-40")
def test_dc_40_bench_writes_every_case_with_times_for_each_peer(tmp_path, capsys):
    out = tmp_path / "bench.json"
    engine.main(["--symbols", "2", "--bars", "300", "--repeat", "1", "--out", str(out)])
    results = json.loads(out.read_text())
    assert [r["case"][0] for r in results] == ["a", "b", "c", "d", "e"]
    for result in results[:4]:
        assert result["bar_combinations"] > 0
        assert any(name.startswith("tradeops") for name in result["seconds"])
        assert "backtesting.py" in result["seconds"]
    assert results[2]["tradeops_peak_rss_mb"] > 0
    single = results[4]
    assert {"kernel, 1 symbol", "run_grid, 1 symbol", "plain numba loop, 1 symbol"} <= set(single["ns_per_bar_point"])
    assert all(ratio > 0 for ratio in single["kernel_over"].values()) and len(single["kernel_over"]) == 3
    printed = capsys.readouterr().out
    assert "bar-combinations/s" in printed and ("faster" in printed or "slower" in printed)
    assert "kernel (1 symbol) / plain numba loop, 1 symbol:" in printed
