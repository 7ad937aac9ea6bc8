"""The HTML report is one self-contained file with plots, metrics, trades and gate checks."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.gate import run_gate, validate_candidate
from tradeops.reports import write_report
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params


@pytest.mark.req("DC-2")
def test_dc_2_report_is_self_contained_with_plots_trades_and_checks(tmp_path):
    verdict, result = run_gate(
        validate_candidate(
            {
                "strategy": "sma_cross",
                "params": {"fast": 10, "slow": 30},
                "thresholds": {"profitability": {"min_sharpe": 9}},
            }
        )
    )
    page = write_report(tmp_path / "out" / "report.html", result, verdict).read_text()
    assert page.count("<svg") == 2 and page.count("<polyline") == 2
    assert not re.search(r"(src|href)=\"https?://", page) and "<script" not in page
    assert page.count("<tr><td>GOOG</td>") == len(result.trades)
    assert "min_sharpe" in page and 'class="fail">FAIL' in page and "FAILED" in page
    assert not list(tmp_path.glob("out/*.partial"))


@pytest.mark.req("DC-8")
def test_dc_8_report_escapes_names_and_handles_a_run_without_trades(tmp_path, goog):
    strategy = get_strategy("sma_cross")
    quiet = run_backtest(
        strategy, validate_params(strategy, {"fast": 30, "slow": 39}), goog.head(40), ExecutionSettings()
    )
    odd = replace(quiet, bars=replace(quiet.bars, name="<b>odd</b>"))
    page = write_report(tmp_path / "r.html", odd).read_text()
    assert "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd</b>" not in page
    assert "Trades (0 closed" in page and "n/a" in page
