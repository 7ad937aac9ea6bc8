"""The market-data benchmark runs end to end on a small set (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import market_data


@pytest.mark.req("DC-14", "DC-15")
def test_dc_14_dc_15_market_data_bench_measures_csv_dataset_import_and_fetch(tmp_path, capsys):
    out = tmp_path / "market.json"
    market_data.main(["--bars", "3000", "--fetch-bars", "2500", "--out", str(out)])
    result = json.loads(out.read_text())
    assert {case["bars"] for case in result["cases"].values()} == {3000}
    assert result["fetch"]["bars"] == 2500 and result["fetch"]["pages"] >= 3
    assert all(case["peak_rss_mb"] > 0 for case in result["cases"].values())
    assert "pages/s" in capsys.readouterr().out
