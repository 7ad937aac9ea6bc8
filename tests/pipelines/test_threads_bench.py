"""The threads benchmark runs end to end on a few bars (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import threads


@pytest.mark.req("DC-61")
def test_dc_61_threads_bench_times_a_backtest_and_a_replay_on_default_and_one_thread(tmp_path, capsys):
    out = tmp_path / "threads.json"
    threads.main(["--bars", "60", "--repeats", "2", "--out", str(out)])
    result = json.loads(out.read_text())
    assert set(result["cases"]) == {"default threads", "one thread"} and result["cores"] >= 1
    for figures in result["cases"].values():
        assert figures["backtest_median_ms"] > 0 and figures["replay_compared_every_bar_s"] > 0
    assert "one thread: one backtest" in capsys.readouterr().out
