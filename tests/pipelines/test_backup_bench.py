"""A smoke of the backup benchmark (`make bench`): every figure on a small table and a 4 MiB database.

It measures and asserts no time: the figures are there and the ratios computed. The memory bound itself is
proven on 64 MiB databases in tests/apps/backup/test_memory.py; `make bench` runs the 1.1 GiB case.
"""

from __future__ import annotations

import json
import math

import pytest
from pipelines.bench import backup


@pytest.mark.req("OE-1")
def test_oe_1_backup_benchmark_times_both_sides(tmp_path):
    out = tmp_path / "b.json"
    assert backup.main(["--rows", "2000", "--memory-mib", "4", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["seconds"]) == {"pg_dump", "tradeops backup create", "pg_restore", "tradeops backup restore"}
    assert result["dump_bytes"] > 0 and all(v > 0 for v in result["seconds"].values())
    assert set(result["overhead_pct"]) == {"dump", "restore"}
    assert all(map(math.isfinite, result["overhead_pct"].values()))
    assert all(v > 0 for v in result["throughput_mb_per_s"].values())
    memory = result["memory"]
    assert memory["database_bytes"] >= 4 * 2**20
    for figures in (memory["peak_growth_mib"], memory["peak_rss_mib"]):
        assert set(figures) == {"create", "verify", "restore"}
    assert all(v > 0 for v in memory["peak_rss_mib"].values())
