"""A smoke of the engine benchmark (`make bench`): every peer on small sizes; it measures and asserts no time.

Small: 300 GOOG bars, a 3 x 3 grid, no empty-cache compile (case d, ~30 s, runs in `make bench` only).
"""

from __future__ import annotations

import json

import pytest
from pipelines.bench import engine


@pytest.mark.req("DC-40")
def test_dc_40_bench_writes_every_case_with_times_for_each_peer(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["--symbols", "2", "--bars", "300", "--goog-bars", "300", "--small-grid", "--skip-cold", "--repeat", "1"]
    engine.main([*args, "--out", str(out)])
    results = json.loads(out.read_text())
    assert [r["case"][0] for r in results] == ["a", "b", "c", "e"]
    assert [r["bar_combinations"] for r in results[:3]] == [300, 300 * 9, 2 * 300 * 9]
    for result in results[:3]:
        assert any(name.startswith("tradeops") for name in result["seconds"])
        assert "backtesting.py" in result["seconds"] and all(v > 0 for v in result["seconds"].values())
    assert results[2]["tradeops_peak_rss_mb"] > 0
    single = results[3]
    assert {"kernel, 1 symbol", "run_grid, 1 symbol", "plain numba loop, 1 symbol"} <= set(single["ns_per_bar_point"])
    assert all(ratio > 0 for ratio in single["kernel_over"].values()) and len(single["kernel_over"]) == 3
    printed = capsys.readouterr().out
    assert printed.count("bar-combinations/s") == sum(len(r["seconds"]) for r in results[:3])
    assert printed.count("x faster") + printed.count("x slower") == sum(len(r["seconds"]) - 1 for r in results[:3])
    assert "kernel (1 symbol) / plain numba loop, 1 symbol:" in printed
