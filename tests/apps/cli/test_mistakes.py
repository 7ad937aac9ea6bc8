"""A new user's plausible mistakes: each is one line on stderr naming the input (exit 2), found before any work."""

from __future__ import annotations

import json

import pytest

from tests.apps.cli.test_cli import cli

GOOG = ["--strategy", "sma_cross", "--data", "sample:GOOG"]


def one_line_error(result: tuple[int, str, str], *named: str) -> str:
    """The error line of a command that must have failed with exit 2, nothing on stdout, one line naming `named`."""
    code, out, err = result
    assert code == 2, result
    assert out == "", out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(("error: ", "UNDECIDED (exit 2): ")), err
    assert "Traceback" not in err and "pydantic" not in err and "http" not in err, err
    for name in named:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.mark.req("DC-66")
def test_dc_66_a_grid_range_written_with_a_dash_says_which_forms_are_accepted(monkeypatch, capsys):
    line = one_line_error(
        cli(monkeypatch, capsys, "backtest", "sweep", *GOOG, "--grid", "fast=5-50", "--grid", "slow=20:60:10"),
        "fast=5-50",
        "START:STOP:STEP",
        "V1,V2",
    )
    assert "fast >= slow" not in line


@pytest.mark.req("DC-66")
def test_dc_66_a_grid_whose_points_are_all_invalid_says_why(monkeypatch, capsys):
    code, out, err = cli(monkeypatch, capsys, "backtest", "sweep", *GOOG, "--grid", "fast=30,40", "--grid", "slow=10")
    assert code == 2 and out == ""
    errors = [line for line in err.splitlines() if line.startswith("error: ")]  # after the line sizing the grid
    assert len(errors) == 1 and "fast=30 slow=10" in errors[0] and "fast (30) must be less than slow (10)" in errors[0]


@pytest.mark.req("DC-66")
@pytest.mark.parametrize("command", [["backtest", "run", *GOOG], ["gate", *GOOG]])
def test_dc_66_a_start_after_the_end_is_one_line_naming_both(command, monkeypatch, capsys):
    one_line_error(
        cli(monkeypatch, capsys, *command, "--start", "2012-01-01", "--end", "2010-01-01"),
        "--start 2012-01-01",
        "--end 2010-01-01",
    )


@pytest.mark.req("DC-66")
def test_dc_66_gate_writes_its_errors_to_stderr(monkeypatch, capsys):
    code, out, err = cli(monkeypatch, capsys, "gate", *GOOG, "--param", "fast=30", "--param", "slow=10")
    assert code == 2 and out == "", (out, err)
    assert "UNDECIDED" in err and "fast (30) must be less than slow (10)" in err


@pytest.mark.req("DC-66")
def test_dc_66_gate_json_keeps_the_undecided_verdict_on_stdout(monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "gate", *GOOG, "--param", "fast=30", "--param", "slow=10", "--json")
    assert code == 2 and "fast (30)" in json.loads(out)["error"]


REPORTS = [
    ["backtest", "run", *GOOG],
    ["backtest", "sweep", *GOOG, "--grid", "fast=5,10", "--grid", "slow=20,30"],
    ["backtest", "walkforward", *GOOG, "--grid", "fast=5,10", "--train-bars", "500", "--test-bars", "250"],
    ["gate", *GOOG],
]


@pytest.mark.req("DC-66")
@pytest.mark.parametrize("command", REPORTS, ids=[" ".join(c[:2]) for c in REPORTS])
def test_dc_66_a_report_path_that_is_a_directory_is_refused_before_the_run(command, monkeypatch, capsys, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    line = one_line_error(cli(monkeypatch, capsys, *command, "--report", str(folder)), str(folder), "directory")
    assert ".partial" not in line
    assert list(folder.iterdir()) == []  # nothing left behind


@pytest.mark.req("DC-66")
@pytest.mark.parametrize("command", REPORTS, ids=[" ".join(c[:2]) for c in REPORTS])
def test_dc_66_a_report_that_is_not_html_is_refused_before_the_run(command, monkeypatch, capsys, tmp_path):
    target = tmp_path / "r.pdf"
    one_line_error(cli(monkeypatch, capsys, *command, "--report", str(target)), str(target), ".html")
    assert not target.exists()


@pytest.mark.req("DC-66")
@pytest.mark.parametrize("option", ["--param", "--grid", "--threshold"])
def test_dc_66_a_repeated_name_is_refused_not_silently_overwritten(option, monkeypatch, capsys):
    command = {
        "--param": ["backtest", "run", *GOOG, "--param", "fast=10", "--param", "fast=15"],
        "--grid": ["backtest", "sweep", *GOOG, "--grid", "fast=5,10", "--grid", "fast=15,20"],
        "--threshold": ["gate", *GOOG, "--threshold", "min_sharpe=1", "--threshold", "min_sharpe=2"],
    }[option]
    one_line_error(cli(monkeypatch, capsys, *command), option, "fast" if option != "--threshold" else "min_sharpe")


@pytest.mark.req("DC-66")
def test_dc_66_a_window_shorter_than_the_warm_up_is_warned(monkeypatch, capsys):
    ten_days = ["--start", "2012-01-02", "--end", "2012-01-12"]  # 8 bars
    code, out, err = cli(monkeypatch, capsys, "backtest", "run", *GOOG, "--param", "slow=20", *ten_days, "--json")
    assert code == 0 and json.loads(out)["metrics"]["trades"] == 0
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "warm-up" in warning[0] and "slow=20" in warning[0], err


@pytest.mark.req("DC-66")
def test_dc_66_a_long_enough_window_is_not_warned(monkeypatch, capsys):
    code, _, err = cli(monkeypatch, capsys, "backtest", "run", *GOOG, "--param", "slow=20", "--json", "--no-store")
    assert code == 0 and "warm-up" not in err


@pytest.mark.req("DC-66")
def test_dc_66_runs_list_refuses_an_unknown_kind_and_names_the_valid_ones(monkeypatch, capsys):
    one_line_error(cli(monkeypatch, capsys, "runs", "list", "--kind", "bogus"), "bogus", "backtest", "sweep", "gate")
