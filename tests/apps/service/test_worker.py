"""The work a worker process does, run in-process: same outputs, clear errors."""

from __future__ import annotations

import pytest

from tradeops.errors import TradeopsError
from tradeops.service.worker import answer, execute


@pytest.mark.req("BT-1")
def test_bt_1_each_job_kind_returns_results_metrics_and_artifacts():
    backtest = execute("backtest", {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"})
    assert backtest["metrics"]["trades"] == 46 and backtest["report_html"].startswith("<!doctype html>")
    sweep = execute(
        "sweep", {"strategy": "sma_cross", "grid": {"fast": [5, 10], "slow": [20, 40]}, "data": "sample:GOOG"}
    )
    assert sweep["result"]["points"] == 4 and sweep["table_csv"].count("\n") == 5
    gate = execute("gate", {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"})
    assert gate["verdict"]["passed"] and "candidate" not in gate["verdict"]
    undecided = execute("gate", {"strategy": "sma_cross", "data": "sample:NOPE"})
    assert undecided["verdict"]["exit_code"] == 2 and undecided["report_html"] is None
    with pytest.raises(TradeopsError, match="all 1 grid points are invalid"):
        execute("sweep", {"strategy": "sma_cross", "grid": {"fast": [50], "slow": [20]}, "data": "sample:GOOG"})


@pytest.mark.req("BT-1")
def test_bt_1_worker_reports_errors_instead_of_dying():
    assert answer("backtest", {"strategy": "sma_cross", "data": "sample:NOPE"}) == (
        "error",
        "unknown sample 'NOPE'; samples: GOOG, EURUSD, synthetic, crypto",
    )
    status, message = answer("backtest", {"data": "sample:GOOG"})
    assert status == "error" and message.startswith("internal error: KeyError: 'strategy'")
