"""The backup benchmark runs end to end on a small table (it measures; it asserts no time)."""

from __future__ import annotations

import json
import shutil

import pytest
from pipelines.bench import backup


@pytest.mark.req("OE-1", "DC-39")
@pytest.mark.skipif(not (shutil.which("zstd") and shutil.which("sqlite3")), reason="make bench installs zstd, sqlite3")
def test_oe_1_dc_39_backup_benchmark_times_tradeops_beside_its_peers(tmp_path):
    out = tmp_path / "b.json"
    assert backup.main(["--rows", "2000", "--sqlite-mib", "2", "--out", str(out)]) == 0
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
    assert set(sqlite["seconds"]) == {"tradeops backup create", "sqlite3 .backup + zstd -3"}
    assert sqlite["bytes"]["tradeops"] < sqlite["bytes"]["database"]  # compressible rows were compressed
