"""The trader benchmark runs end to end on a small set (it measures; it asserts no time)."""

from __future__ import annotations

import json

from pipelines.bench import trader


def test_trader_bench_times_the_replay_beside_the_backtest(tmp_path, capsys):
    out = tmp_path / "trader.json"
    trader.main(["--data", "sample:synthetic?bars=200", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["bars"] == 200 and result["replay_bars_per_second"] > 0
    assert set(result["seconds"]) == {"tradeops trader replay (SQLite ledger)", "tradeops backtest"}
    assert "x the backtest" in capsys.readouterr().out
