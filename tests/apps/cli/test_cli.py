"""The front door: `tradeops backtest run|sweep`, `tradeops gate`, exit codes and JSON shapes."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from tests.conftest import rewrite
from tradeops.cli import main


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["tradeops", *args])
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


@pytest.mark.req("DC-8")
def test_dc_8_backtest_run_json_follows_the_front_door_contract(monkeypatch, capsys, tmp_path):
    report = tmp_path / "run.html"
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "backtest",
        "run",
        "--strategy",
        "sma_cross",
        "--param",
        "fast=10",
        "--param",
        "slow=20",
        "--data",
        "sample:GOOG",
        "--json",
        "--report",
        str(report),
    )
    assert code == 0
    payload = json.loads(out)
    assert {"strategy", "params", "data", "initial_cash", "final_equity", "metrics", "trades"} <= set(payload)
    assert payload["params"] == {"fast": 10, "slow": 20} and payload["initial_cash"] == 10_000
    assert payload["data"]["name"] == "sample:GOOG" and payload["data"]["fingerprint"].startswith("sha256:")
    assert {"total_return_pct", "sharpe", "max_drawdown_pct", "profit_factor", "win_rate_pct", "trades"} <= set(
        payload["metrics"]
    )
    trade = payload["trades"][0]
    assert set(trade) >= {"entry_time", "entry_price", "exit_time", "exit_price", "size", "pnl"}
    assert pd.Timestamp(trade["entry_time"]) < pd.Timestamp(trade["exit_time"])
    assert payload["metrics"]["trades"] == len(payload["trades"]) == 46
    # equity, underwater, price, return by duration, MAE/MFE, yearly, monthly, rolling, distribution
    assert report.read_text().count('<div class="chart" id="chart-') == 9


@pytest.mark.req("DC-8")
def test_dc_8_backtest_run_prints_a_table_and_takes_cost_options(monkeypatch, capsys):
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "backtest",
        "run",
        "-s",
        "rsi_reversion",
        "-d",
        "sample:EURUSD",
        "--commission",
        "0.0002",
        "--sizing",
        "fixed_fraction",
        "--fraction",
        "0.5",
        "--direction",
        "long_short",
    )
    assert code == 0 and "sharpe" in out and "total_return_pct" in out


@pytest.mark.req("DC-10")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "fast=30", "--param", "slow=10"], "fast (30) must be less than slow (10)"),
        (["--param", "fast"], "must look like NAME=VALUE"),
        (["--param", "speed=3"], "speed: Extra inputs are not permitted"),
        (["--cash", "-5"], "cash: Input should be greater than 0"),
    ],
)
def test_dc_10_bad_options_exit_2_with_one_clear_line(monkeypatch, capsys, args, message):
    code, out, err = cli(monkeypatch, capsys, "backtest", "run", "-s", "sma_cross", "-d", "sample:GOOG", *args)
    assert code == 2 and out == ""
    assert message in " ".join(err.split())
    assert "Traceback" not in err


@pytest.mark.req("DC-11")
def test_dc_11_sweep_shows_best_points_and_writes_the_full_table(monkeypatch, capsys, tmp_path):
    table = tmp_path / "grid.csv"
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "backtest",
        "sweep",
        "-s",
        "sma_cross",
        "-d",
        "sample:GOOG",
        "--grid",
        "fast=5:50:5",
        "--grid",
        "slow=20:200:10",
        "--out",
        str(table),
        "--json",
        "--top",
        "3",
    )
    assert code == 0
    payload = json.loads(out)
    assert (payload["points"], payload["invalid_points"]) == (174, 16)
    sharpes = [row["sharpe"] for row in payload["best"]]
    assert sharpes == sorted(sharpes, reverse=True) and len(sharpes) == 3
    frame = pd.read_csv(table)
    assert len(frame) == 174 and frame["sharpe"].max() == pytest.approx(sharpes[0])
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "backtest",
        "sweep",
        "-s",
        "rsi_reversion",
        "-d",
        "sample:GOOG",
        "--grid",
        "lower=20,25,30",
        "--grid",
        "upper=70:80:5",
        "--out",
        str(tmp_path / "g.json"),
    )
    assert code == 0 and "best 5 of 9 points" in " ".join(out.split())
    assert len(json.loads((tmp_path / "g.json").read_text())) == 9


@pytest.mark.req("DC-11")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "fast=5:1:1"], "STOP >= START"),
        (["--grid", "fast=a:b:c"], "START:STOP:STEP with numbers"),
        (["--grid", "fast=30,40", "--grid", "slow=10,20"], "all 4 grid points are invalid"),
        (["--grid", "fast=5,10", "--sort-by", "luck"], "--sort-by 'luck' is not a metric"),
        (["--grid", "fast=5,10", "--out", "x.txt"], "use a .csv, .json or .parquet file"),
    ],
)
def test_dc_11_bad_grids_are_refused_before_any_work(monkeypatch, capsys, args, message):
    code, _, err = cli(monkeypatch, capsys, "backtest", "sweep", "-s", "sma_cross", "-d", "sample:GOOG", *args)
    assert code == 2 and message in " ".join(err.split())


@pytest.mark.req("DC-2")
def test_dc_2_gate_passes_with_exit_0_and_writes_verdict_and_report(monkeypatch, capsys, tmp_path):
    config = tmp_path / "candidate.yaml"
    config.write_text("strategy: sma_cross\nparams: {fast: 10, slow: 30}\ndata: sample:GOOG\n")
    verdict_file, report = tmp_path / "verdict.json", tmp_path / "gate.html"
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "gate",
        "--config",
        str(config),
        "--json",
        "--out",
        str(verdict_file),
        "--report",
        str(report),
    )
    payload = json.loads(out)
    assert code == 0 and payload["passed"] and payload["exit_code"] == 0
    assert json.loads(verdict_file.read_text()) == payload
    assert 'Gate: <span class="pass">PASSED' in report.read_text()
    code, out, _ = cli(monkeypatch, capsys, "gate", "--config", str(config))
    assert code == 0 and "PASSED" in out and "min_robust_share" in out


@pytest.mark.req("DC-2")
def test_dc_2_gate_exits_1_when_a_threshold_is_not_met(monkeypatch, capsys):
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "gate",
        "-s",
        "sma_cross",
        "-p",
        "fast=10",
        "-p",
        "slow=30",
        "-d",
        "sample:GOOG",
        "--threshold",
        "min_sharpe=3",
        "--threshold",
        "min_robust_share=none",
        "--json",
    )
    payload = json.loads(out)
    assert code == 1 and payload["exit_code"] == 1 and not payload["passed"]
    failed = [c for c in payload["checks"] if not c["passed"]]
    assert [c["name"] for c in failed] == ["min_sharpe"] and failed[0]["limit"] == 3
    assert "min_robust_share" not in [c["name"] for c in payload["checks"]]
    code, out, _ = cli(monkeypatch, capsys, "gate", "-s", "sma_cross", "-d", "sample:GOOG", "-t", "min_sharpe=3")
    assert code == 1 and "FAILED" in out


@pytest.mark.req("DC-2", "DC-7")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.__setitem__("close", f["close"].where(f.index != 50)), "column 'close': missing value (NaN)"),
        (lambda f: f.loc.__setitem__((80, "date"), "2001-01-01"), "data is not sorted"),
        (lambda f: f.loc.__setitem__((80, "date"), f.loc[79, "date"]), "duplicate timestamp"),
    ],
)
def test_dc_2_dc_7_gate_exits_2_on_bad_data(monkeypatch, capsys, goog_csv, change, message):
    rewrite(goog_csv, change)
    code, out, _ = cli(monkeypatch, capsys, "gate", "-s", "sma_cross", "-d", str(goog_csv), "--json")
    payload = json.loads(out)
    assert code == 2 and payload["exit_code"] == 2 and not payload["passed"] and payload["checks"] == []
    assert message in payload["error"] and str(goog_csv) in payload["error"]


@pytest.mark.req("DC-2")
@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--config", "/nonexistent.yaml"],
        ["-s", "sma_cross", "-t", "min_sharpe"],
        ["-s", "sma_cross", "-t", "min_shape=1"],
        ["-s", "nope"],
        ["-s", "sma_cross", "--cash", "0"],
    ],
)
def test_dc_2_gate_exits_2_on_bad_config(monkeypatch, capsys, args):
    code, out, _ = cli(monkeypatch, capsys, "gate", *args, "--json")
    assert code == 2 and json.loads(out)["exit_code"] == 2


@pytest.mark.req("DC-2")
def test_dc_2_gate_exits_2_when_the_engine_crashes(monkeypatch, capsys):
    from tradeops.gate import checks

    def explode(*_args, **_kwargs):
        raise FloatingPointError("kernel blew up")

    monkeypatch.setattr(checks, "run_backtest", explode)
    code, out, _ = cli(monkeypatch, capsys, "gate", "-s", "sma_cross", "--json")
    payload = json.loads(out)
    assert code == 2 and "internal error: FloatingPointError: kernel blew up" in payload["error"]


@pytest.mark.req("DC-2")
def test_dc_2_config_values_can_be_overridden_from_the_command_line(monkeypatch, capsys, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("strategy: sma_cross\nparams: {fast: 10, slow: 30}\nexecution: {commission: 0.001}\n")
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "gate",
        "-c",
        str(config),
        "-p",
        "slow=40",
        "-d",
        "sample:EURUSD",
        "--slippage",
        "0.0001",
        "--json",
    )
    candidate = json.loads(out)["candidate"]
    assert candidate["params"] == {"fast": 10, "slow": 40} and candidate["data"] == "sample:EURUSD"
    assert candidate["execution"]["commission"] == 0.001 and candidate["execution"]["slippage"] == 0.0001
    assert code in (0, 1)


@pytest.mark.req("DC-9")
def test_dc_9_warmup_and_version_commands_run(monkeypatch, capsys):
    code, _, err = cli(monkeypatch, capsys, "warmup")
    assert code == 0 and "engine compiled and cached; the command took" in err
    code, out, _ = cli(monkeypatch, capsys, "version")
    assert code == 0 and out.strip()
    code, _, err = cli(monkeypatch, capsys, "backtest", "run", "--nope")
    assert code == 2 and "No such option" in err


@pytest.mark.req("DC-2")
def test_dc_2_text_that_looks_like_markup_is_printed_not_interpreted(monkeypatch, capsys):
    code, _, err = cli(monkeypatch, capsys, "gate", "-s", "[/x]")
    assert code == 2 and "[/x]" in err  # an undecided gate is an error: stderr
    code, _, err = cli(monkeypatch, capsys, "backtest", "run", "-s", "[/x]", "-d", "sample:GOOG")
    assert code == 2 and "[/x]" in err


@pytest.mark.req("DC-2")
def test_dc_2_paths_and_reasons_that_look_like_markup_are_echoed_as_given(monkeypatch, capsys, tmp_path):
    report = tmp_path / "r[red].html"
    code, _, err = cli(
        monkeypatch, capsys, "backtest", "run", "-s", "sma_cross", "-d", "sample:GOOG", "--report", str(report)
    )
    assert code == 0 and report.is_file() and f"report written to {report}" in " ".join(err.split())
    code, out, _ = cli(monkeypatch, capsys, "trader", "replay", "-s", "sma_cross", "-d", "sample:GOOG", "--json")
    session = json.loads(out)["session"]["id"]
    reason = "[bold]fat finger[/bold] :rocket: in [red]BTC"
    code, _, err = cli(monkeypatch, capsys, "trader", "halt", "--session", session, "--reason", reason)
    assert code == 0 and reason in err


@pytest.mark.req("DC-2", "BT-4")
def test_dc_2_bt_4_gate_judges_a_stacks_candidate_from_its_config_file(monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "gate", "--stack", "dev", "--json")
    verdict = json.loads(out)
    assert code == verdict["exit_code"] and {c["name"] for c in verdict["checks"]} >= {"min_sharpe", "max_drawdown_pct"}
    code, out, _ = cli(monkeypatch, capsys, "gate", "--stack", "dev", "--threshold", "min_sharpe=50", "--json")
    assert code == 1 and json.loads(out)["passed"] is False
    code, _, err = cli(monkeypatch, capsys, "gate", "--stack", "nope")
    assert code == 2 and "Pulumi.nope.yaml: cannot be read" in err
    code, _, err = cli(monkeypatch, capsys, "gate", "--stack", "dev", "--config", "x.yaml")
    assert code == 2 and "not both" in err
