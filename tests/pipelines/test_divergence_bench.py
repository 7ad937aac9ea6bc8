"""The divergence benchmark runs end to end on a small set (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import divergence


@pytest.mark.req("DC-25")
def test_dc_25_divergence_bench_prices_a_comparison_and_quotes_injected_slippage(tmp_path, capsys):
    out = tmp_path / "divergence.json"
    divergence.main(["--data", "sample:synthetic?bars=300", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["bars"] == 300 and len(result["compare_ms_at_bar"]) == 3
    assert result["paper_max_abs_drift_bps"] < 1e-6 and result["venue_last"]["slippage_bps"] == pytest.approx(25)
    assert result["venue_last"]["equity_drift_bps"] < 0 and "venue 25 bps worse" in capsys.readouterr().out
