"""The work a worker process does, run in-process: same outputs, clear errors."""

from __future__ import annotations

import pytest

from tradeops.errors import TradeopsError
from tradeops.service.worker import child_main, execute


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


class Pipe:
    def __init__(self) -> None:
        self.sent: list[object] = []
        self.closed = False

    def send(self, item: object) -> None:
        self.sent.append(item)

    def close(self) -> None:
        self.closed = True


@pytest.mark.req("BT-1")
def test_bt_1_worker_entry_point_reports_errors_instead_of_dying(monkeypatch):
    niceness = []
    monkeypatch.setattr("os.nice", niceness.append)  # the worker lowers its own priority; not this test process
    pipe = Pipe()
    child_main(pipe, "backtest", {"strategy": "sma_cross", "data": "sample:NOPE"})  # type: ignore[arg-type]
    assert pipe.sent == [("error", "unknown sample 'NOPE'; samples: GOOG, EURUSD, synthetic, crypto")] and pipe.closed
    pipe = Pipe()
    child_main(pipe, "backtest", {"data": "sample:GOOG"})  # type: ignore[arg-type]
    ((status, message),) = pipe.sent
    assert status == "error" and message.startswith("internal error: KeyError: 'strategy'")
    assert niceness == [10, 10]
