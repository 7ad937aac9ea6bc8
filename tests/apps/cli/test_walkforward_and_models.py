"""`tradeops backtest walkforward` and `tradeops model train|list|show` at the front door."""

from __future__ import annotations

import json

import pytest

from tests.apps.cli.test_cli import cli

RELAXED = [
    f"--threshold={name}=none"
    for name in ("min_sharpe", "min_profit_factor", "min_total_return_pct", "max_drawdown_pct", "min_oos_sharpe_ratio")
]


@pytest.mark.req("DC-13")
def test_dc_13_walkforward_prints_each_fold_and_the_stitched_out_of_sample_record(monkeypatch, capsys):
    args = ["backtest", "walkforward", "--strategy", "sma_cross", "--grid", "fast=5:15:5", "--grid", "slow=30,60"]
    args += ["--data", "sample:GOOG", "--train-bars", "600", "--test-bars", "400"]
    code, out, err = cli(monkeypatch, capsys, *args, "--json", "--commission", "0.001")
    assert code == 0
    payload = json.loads(out)
    assert payload["points"] == 6 and payload["train_bars"] == 600 and not payload["anchored"]
    assert [f["test"]["bars"] for f in payload["folds"]] == [400, 400, 400, 348]
    assert set(payload["folds"][0]["params"]) == {"fast", "slow"}
    assert {"sharpe", "total_return_pct", "max_drawdown_pct", "trades"} <= set(payload["folds"][0]["oos_metrics"])
    assert payload["oos"]["start"].startswith("2007-01-08") and payload["oos"]["initial_cash"] == 10_000
    assert {"sharpe", "excess_return_pct", "buy_and_hold_return_pct"} <= set(payload["oos"]["metrics"])
    code, out, err = cli(monkeypatch, capsys, *args, "--anchored")
    assert code == 0
    assert "4 folds, 6 points, by sharpe" in out and "out of sample 2007-01-08" in out
    assert "28/28" in err  # progress: 4 folds x (6 grid points + 1 test)


@pytest.mark.req("DC-13")
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--train-bars", "2000", "--test-bars", "500"], "2148 bars cannot hold one fold of 2000 train + 500 test"),
        (["--train-bars", "500", "--test-bars", "200", "--sort-by", "luck"], "--sort-by 'luck' is not a metric"),
        (["--train-bars", "500", "--test-bars", "200", "--grid", "fast=50:60:5"], "grid points are invalid"),
    ],
)
def test_dc_13_walkforward_refuses_windows_and_grids_that_cannot_work(monkeypatch, capsys, extra, message):
    args = ["backtest", "walkforward", "--strategy", "sma_cross", "--data", "sample:GOOG", "--grid", "slow=20,30"]
    code, _, err = cli(monkeypatch, capsys, *args, *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.req("DC-13")
def test_dc_13_model_train_records_each_version_with_its_gate_verdict_and_exit_code(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    train = ["model", "train", "--data", "sample:GOOG", "--until", "2008-12-31", "--param", "train_bars=200"]
    failed_code, out, _ = cli(monkeypatch, capsys, *train, "--json")
    failed = json.loads(out)
    assert failed_code == failed["gate"]["exit_code"] == 1 and not failed["gate"]["passed"]
    assert failed["training"]["last_seen"] == "2008-12-31T00:00:00"
    passed_code, out, _ = cli(monkeypatch, capsys, *train, *RELAXED, "--threshold", "min_robust_share=none")
    assert passed_code == 0 and "gate: passed" in out and "walk-forward validation: predictions" in out

    code, out, _ = cli(monkeypatch, capsys, "model", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["store"] == (tmp_path / "data/objects").resolve().as_uri()
    assert len(listed["versions"]) == 2 and listed["versions"][0]["version"] == failed["version"]
    code, out, _ = cli(monkeypatch, capsys, "model", "list")
    assert code == 0 and "failed" in out and "passed" in out and "2008-12-31" in out
    code, out, _ = cli(monkeypatch, capsys, "model", "show", failed["version"], "--json")
    assert code == 0 and json.loads(out) == failed
    code, out, _ = cli(monkeypatch, capsys, "model", "show", failed["version"])
    assert code == 0 and f"model {failed['version']}" in out and "failed: min_sharpe" in out

    run = ["backtest", "run", "--strategy", "ml_classifier", "--param", f"model={failed['version']}", "--json"]
    code, out, _ = cli(monkeypatch, capsys, *run, "--data", "sample:GOOG")
    trades = json.loads(out)["trades"]
    assert code == 0 and trades and min(t["entry_time"] for t in trades) > "2009-01-01"


@pytest.mark.req("DC-13")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["model", "show", "20200101T000000Z-00000000"], "no model version '20200101T000000Z-00000000'"),
        (["model", "train", "--data", "sample:GOOG", "--until", "1999-01-01"], "sample:GOOG starts later"),
        (["model", "train", "--data", "sample:GOOG", "--until", "someday"], "'someday' is not a date"),
        (["model", "train", "--data", "sample:GOOG", "--param", "threshold=0.3"], "threshold: Input should be greater"),
    ],
)
def test_dc_13_model_commands_explain_bad_input_in_one_line(monkeypatch, capsys, tmp_path, args, message):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    code, _, err = cli(monkeypatch, capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
