"""A smoke of the start-up and glue benchmark (`make bench`) on small sizes: it measures and asserts no time."""

from __future__ import annotations

import json

import pytest
from pipelines.bench import startup
from pipelines.bench.peers import has_backtrader


@pytest.mark.req("DC-18")
def test_dc_18_the_startup_bench_writes_every_case_side_by_side(tmp_path, capsys):
    out = tmp_path / "startup.json"
    args = [
        "--bars",
        "600",
        "--small-grid",
        "--grid-symbols",
        "2",
        "--grid-bars",
        "400",
        "--big",
        "3000",
        "--repeat",
        "0",
        "--linear",
        "400,800",
    ]
    startup.main([*args, "--out", str(out)])
    results = json.loads(out.read_text())
    assert [r["case"][0] for r in results] == ["a", "b", "c", "d", "e", "f"]
    assert set(results[0]["seconds"]) == {"tradeops --help", "tradeops backup list", 'python -c "import typer"'}
    assert results[2]["case"] == "c: whole process, 9-point sweep on 600 hourly bars"
    assert set(results[2]["seconds"]) == {"tradeops backtest sweep", "backtesting.py optimize"}
    peers = {"backtesting.py (one backtest)"} | ({"backtrader (one backtest)"} if has_backtrader() else set())
    assert peers <= set(results[1]["seconds"])  # backtrader comes with the bench extra (`make bench`)
    assert list(results[3]["ns_per_bar_point"])[:3] == ["kernel", "run_grid", "plain numba loop"]
    assert {"kernel, signal arrays", "plain numba loop, contiguous signals"} <= set(results[3]["ns_per_bar_point"])
    assert {"load", "signals", "kernel", "json"} <= set(results[4]["seconds"])
    assert list(results[5]["ns_per_bar_point"]) == ["run_grid, 400 bars", "run_grid, 800 bars"]
    measured = [(k, v) for r in results for k, v in (r.get("seconds") or r["ns_per_bar_point"]).items()]
    # a figure derived by subtraction ("run_backtest minus signals and kernel") may dip below 0 under load
    assert all(value > 0 for name, value in measured if "minus" not in name)
    assert capsys.readouterr().out.count("x the first") == len(measured) - len(results)  # each against its first
