"""CLI backtests are stored; `tradeops runs` lists, shows, compares and exports them; `tradeops strategies`."""

from __future__ import annotations

import csv
import json

import pytest

from tests.apps.cli.test_cli import cli
from tradeops.store import RunStore


def backtest(monkeypatch, capsys, *params: str) -> str:
    args = ["backtest", "run", "-s", "sma_cross", "-d", "sample:GOOG", "--json"]
    for param in params:
        args += ["-p", param]
    code, _, err = cli(monkeypatch, capsys, *args)
    assert code == 0, err
    return err.split("stored as run ")[1].split()[0]


@pytest.mark.req("DC-20")
def test_dc_20_cli_backtests_are_stored_listed_shown_compared_and_exported(monkeypatch, capsys, tmp_path):
    first = backtest(monkeypatch, capsys, "fast=10", "slow=30")
    second = backtest(monkeypatch, capsys, "fast=5", "slow=40")
    code, out, _ = cli(monkeypatch, capsys, "runs", "list", "--strategy", "sma_cross", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["total"] == 2 and [r["id"] for r in listed["items"]] == [second, first]
    assert {r["source"] for r in listed["items"]} == {"cli"} and listed["items"][1]["params"] == {
        "fast": 10,
        "slow": 30,
    }
    code, out, _ = cli(monkeypatch, capsys, "runs", "list", "--strategy", "rsi_reversion", "--json")
    assert json.loads(out)["total"] == 0
    code, out, _ = cli(monkeypatch, capsys, "runs", "list")
    assert code == 0 and first[:8] in out and second[:8] in out and "2 of 2 runs" in out  # short ids
    code, out, _ = cli(monkeypatch, capsys, "runs", "show", first)
    assert code == 0 and "sma_cross" in out and "sample:GOOG" in out and "max_drawdown_pct" in out
    code, out, _ = cli(monkeypatch, capsys, "runs", "show", first, "--json")
    shown = json.loads(out)
    assert shown["id"] == first and shown["source"] == "cli" and "result" not in shown
    code, out, _ = cli(monkeypatch, capsys, "runs", "compare", first, second)
    assert code == 0 and f"{first[:8]} sma_cross" in out and "excess_return_pct" in out
    report = tmp_path / "compare.html"
    code, out, _ = cli(monkeypatch, capsys, "runs", "compare", first, second, "--report", str(report), "--json")
    metrics = json.loads(out)
    assert code == 0 and set(metrics) == {first, second}
    page = report.read_text()
    assert page.count('<div class="chart" id="chart-overlay">') == 1 and f"{metrics[first]['sharpe']:,.4g}" in page
    code, _, _ = cli(monkeypatch, capsys, "runs", "export", first, str(tmp_path / "t.csv"), "--trades")
    trades = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert code == 0 and len(trades) == metrics[first]["trades"] and trades[0]["symbol"] == "GOOG"
    code, _, _ = cli(monkeypatch, capsys, "runs", "export", first, str(tmp_path / "e.csv"), "--equity")
    equity = list(csv.DictReader((tmp_path / "e.csv").open()))
    store = RunStore(f"sqlite:///{tmp_path / 'tradeops-data' / 'tradeops.db'}")
    stored = store.get(first)
    store.close()
    assert len(equity) == stored.result["data"]["bars"] and float(equity[-1]["equity"]) == stored.result["final_equity"]


@pytest.mark.req("DC-20", "DC-8")
def test_dc_20_dc_8_runs_commands_explain_bad_input_in_one_line(monkeypatch, capsys, tmp_path):
    code, out, _ = cli(
        monkeypatch, capsys, "backtest", "run", "-s", "sma_cross", "-d", "sample:GOOG", "--no-store", "--json"
    )
    assert code == 0
    code, out, _ = cli(monkeypatch, capsys, "runs", "list", "--json")
    assert json.loads(out)["total"] == 0
    code, _, err = cli(monkeypatch, capsys, "runs", "show", "nope")
    assert code == 2 and "no stored run 'nope'" in err and "Traceback" not in err
    code, _, err = cli(monkeypatch, capsys, "runs", "compare", "nope")
    assert code == 2 and "two or more" in err
    code, _, err = cli(monkeypatch, capsys, "runs", "export", "nope", str(tmp_path / "x.csv"))
    assert code == 2 and "--trades or --equity" in err
    code, _, err = cli(monkeypatch, capsys, "runs", "export", "nope", str(tmp_path / "x.csv"), "--trades")
    assert code == 2 and "no stored run 'nope'" in err


@pytest.mark.req("DC-20")
def test_dc_20_strategies_lists_parameters_with_ranges_and_descriptions(monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "strategies", "--json")
    described = {s["name"]: s for s in json.loads(out)}
    assert code == 0 and {"sma_cross", "rsi_reversion", "donchian_breakout", "ml_classifier"} <= set(described)
    fast = next(p for p in described["sma_cross"]["params"] if p["name"] == "fast")
    assert (fast["default"], fast["minimum"], fast["maximum"], fast["step"]) == (10, 2, 500, 1)
    assert "fast moving average" in fast["description"]
    code, out, _ = cli(monkeypatch, capsys, "strategies")
    assert code == 0 and "slow moving average window" in out


@pytest.mark.req("DC-20")
def test_dc_20_sweep_and_walkforward_reports_draw_the_heatmap_and_the_folds(monkeypatch, capsys, tmp_path):
    from tests.apps.reports.test_html import figure, table_rows

    sweep = tmp_path / "sweep.html"
    code, _, err = cli(
        monkeypatch, capsys, "backtest", "sweep", "-s", "sma_cross", "-d", "sample:GOOG",
        "-g", "fast=5:15:5", "-g", "slow=20:40:10", "--report", str(sweep), "--json",
    )  # fmt: skip
    assert code == 0, err
    heat = figure(sweep.read_text(), "heatmap")["data"][0]
    assert heat["x"] == ["5", "10", "15"] and heat["y"] == ["20", "30", "40"]
    assert len(table_rows(sweep.read_text(), "points")) == 9
    walk = tmp_path / "walk.html"
    code, _, err = cli(
        monkeypatch, capsys, "backtest", "walkforward", "-s", "sma_cross", "-d", "sample:GOOG",
        "-g", "fast=5,10", "-g", "slow=30", "--train-bars", "500", "--test-bars", "400",
        "--report", str(walk), "--json",
    )  # fmt: skip
    assert code == 0, err
    page = walk.read_text()
    folds = table_rows(page, "folds")
    drawn = figure(page, "folds")["layout"]
    assert len(folds) == len(drawn["shapes"]) >= 3 and all(a["text"].startswith("fold ") for a in drawn["annotations"])
    code, _, err = cli(
        monkeypatch, capsys, "backtest", "sweep", "-s", "sma_cross", "-d", "sample:GOOG",
        "-g", "fast=5,10", "--report", str(sweep),
    )  # fmt: skip
    assert code == 2 and "two --grid parameters" in err
