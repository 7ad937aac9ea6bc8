"""The loopback load test runs bounded and reports no errors (it measures; it asserts no latency)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import api_load


@pytest.mark.req("BT-1")
def test_bt_1_concurrent_reads_while_backtests_queue_see_no_errors(tmp_path):
    out = tmp_path / "load.json"
    arguments = ["--concurrent", "40", "--rounds", "2", "--queued", "8", "--throughput", "4", "--out", str(out)]
    assert api_load.main(arguments) == 0
    result = json.loads(out.read_text())
    assert result["requests"] == 80 and result["errors"] == []
    assert set(result["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert result["server_peak_rss_mb"]["after"] > 0
    rates = result["backtests_per_s"]
    assert rates["workers"] == 2 and rates["count"] == 4 and rates["api"] > 0 and rates["in_process"] > 0
