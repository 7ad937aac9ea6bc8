"""A smoke of the backup benchmark (`make bench`): every figure on a small table and a 4 MiB database.

It measures and asserts no time: the figures are there and the ratios computed. The memory bound itself is
proven on 64 MiB databases in tests/apps/backup/test_memory.py; `make bench` runs the 1.1 GiB case.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
from pipelines.bench import backup


@pytest.mark.req("OE-1", "DC-39")
def test_oe_1_dc_39_backup_benchmark_times_tradeops_beside_its_peers(tmp_path):
    for tool in ("zstd", "sqlite3"):  # the peers; `make setup` installs them
        assert shutil.which(tool), f"{tool} is not installed: run `make setup`"
    out = tmp_path / "b.json"
    assert backup.main(["--rows", "2000", "--sqlite-mib", "2", "--memory-mib", "4", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    postgres, sqlite = result["postgresql"], result["sqlite"]
    assert set(postgres["seconds"]) == {
        "tradeops backup create",
        "pg_dump -Fc -Z0 | zstd -3",
        "pg_dump -Fc",
        "tradeops backup restore",
        "pg_restore",
    }
    assert all(v > 0 for v in postgres["dump_bytes"].values()) and all(v > 0 for v in postgres["seconds"].values())
    assert set(postgres["ratio"]) == {
        "create / (pg_dump -Fc -Z0 | zstd -3)",
        "create / pg_dump -Fc",
        "restore / pg_restore",
    }
    assert all(map(math.isfinite, postgres["ratio"].values()))
    assert set(sqlite["seconds"]) == {"tradeops backup create", "sqlite3 .backup + zstd -3"}
    assert sqlite["bytes"]["tradeops"] < sqlite["bytes"]["database"]  # compressible rows were compressed
    memory = result["memory"]
    assert memory["database_bytes"] >= 4 * 2**20
    for figures in (memory["peak_growth_mib"], memory["peak_rss_mib"]):
        assert set(figures) == {"create", "verify", "restore"}
    assert all(v > 0 for v in memory["peak_rss_mib"].values())
