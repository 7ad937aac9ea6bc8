"""The backup benchmark runs end to end on a small table (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import backup


@pytest.mark.req("OE-1")
def test_oe_1_backup_benchmark_times_both_sides(tmp_path):
    out = tmp_path / "b.json"
    assert backup.main(["--rows", "2000", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["seconds"]) == {"pg_dump", "tradeops backup create", "pg_restore", "tradeops backup restore"}
    assert result["dump_bytes"] > 0 and all(v > 0 for v in result["seconds"].values())
