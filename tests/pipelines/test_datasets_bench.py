"""The many-symbol dataset benchmark runs end to end on a small set (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import datasets


@pytest.mark.req("DC-34", "DC-35")
def test_dc_34_dc_35_dataset_bench_prints_load_import_and_backtest_ratios_against_their_peers(tmp_path, capsys):
    out = tmp_path / "datasets.json"
    assert datasets.main(["--symbols", "4", "--bars", "300", "--repeats", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["rows"] == 1200 and result["parts"] == 2 and result["dataset_equals_parquet_file"] is True
    assert set(result["ratios"]) == {
        "load_vs_read_parquet",
        "import_vs_read_csv_to_parquet",
        "import_cpu_vs_read_csv_to_parquet",
        "backtest_dataset_vs_parquet_file",
    }
    assert all(ratio > 0 for ratio in result["ratios"].values())
    assert 0 < result["import_stdout_bytes"] < 1000  # the gaps as one line, however many symbols
    printed = capsys.readouterr().out
    assert (
        "vs pd.read_parquet" in printed and "vs read_csv + to_parquet" in printed and "on the Parquet file" in printed
    )
