"""One exit-code table for every command (docs/README.md): bad input is one line naming it, exit 2, no traceback."""

from __future__ import annotations

import pytest

from tests.apps.cli.test_cli import cli

GOOG = ["--strategy", "sma_cross", "--data", "sample:GOOG"]

BAD_INPUTS = [
    (["gate", *GOOG, "--report", "/proc/x.html"], "/proc/x.html"),
    (["deploy", "--stack", "nosuch"], "nosuch"),
    (["rollback", "--stack", "nosuch"], "nosuch"),
    (["config", "check", "--stack", "nosuch"], "nosuch"),
    (["backtest", "run", *GOOG, "--cash", "1e308"], "cash"),
    (["gate", *GOOG, "--cash", "inf"], "cash"),
    (["backtest", "sweep", *GOOG, "--grid", "fast=a:b:c"], "fast='a:b:c'"),
    (["backup", "verify", "../x"], "'../x'"),
    (["backup", "restore", "nosuch", "--yes"], "'nosuch'"),
    (["backtest", "run", "--strategy", "sma_cross", "--data", "/nonexistent/bars.csv"], "/nonexistent/bars.csv"),
    (["gate", *GOOG, "--threshold", "min_sharpe=abc"], "min_sharpe"),
]


@pytest.mark.req("DC-17")
@pytest.mark.parametrize(("command", "named"), BAD_INPUTS, ids=[" ".join(c[:2]) + f" {n}" for c, n in BAD_INPUTS])
def test_dc_17_bad_input_exits_2_with_one_line_naming_it_and_no_traceback(
    command, named, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(monkeypatch, capsys, *command)
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err and named in out + err, (out, err)
    assert "🅱" not in err  # rich's emoji codes (":b:") never rewrite user text
