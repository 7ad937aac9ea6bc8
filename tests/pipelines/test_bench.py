"""The benchmark harness runs end to end on small sizes (it measures; it asserts no time)."""

from __future__ import annotations

import json

from pipelines.bench import engine


def test_bench_writes_every_case_with_times_for_each_peer(tmp_path, capsys):
    out = tmp_path / "bench.json"
    engine.main(["--symbols", "2", "--bars", "300", "--repeat", "1", "--out", str(out)])
    results = json.loads(out.read_text())
    assert [r["case"][0] for r in results] == ["a", "b", "c", "d"]
    for result in results:
        assert result["bar_combinations"] > 0
        assert any(name.startswith("tradeops") for name in result["seconds"])
        assert "backtesting.py" in result["seconds"]
    assert results[2]["tradeops_peak_rss_mb"] > 0
    printed = capsys.readouterr().out
    assert "bar-combinations/s" in printed and ("faster" in printed or "slower" in printed)
