"""Tables fit an 80-column terminal: `runs list` (short ids, chosen columns, "…" for long cells) and `data list`."""

from __future__ import annotations

import pytest

from tests.apps.cli.test_cli import cli

GOOG = ["--strategy", "sma_cross", "--data", "sample:GOOG"]


def widest(text: str) -> int:
    return max(len(line.rstrip("\n")) for line in text.splitlines())


@pytest.mark.req("DC-67")
def test_dc_67_runs_list_fits_80_columns_and_its_short_ids_open_the_run(monkeypatch, capsys):
    for params in (["fast=10", "slow=20"], ["fast=5", "slow=50"]):
        assert cli(monkeypatch, capsys, "backtest", "run", *GOOG, "--param", params[0], "--param", params[1])[0] == 0
    cli(monkeypatch, capsys, "backtest", "run", "--strategy", "donchian_breakout", "--data", "sample:GOOG")
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = cli(monkeypatch, capsys, "runs", "list")
    assert code == 0 and widest(out) <= 80, out
    header = next(line for line in out.splitlines() if line.startswith("id"))
    assert header.split() == ["id", "kind", "status", "strategy", "params", "created", "sharpe", "ret", "%"], header
    rows = [line.split() for line in out.splitlines() if "backtest" in line]
    assert len(rows) == 3 and all(len(row[0]) == 8 for row in rows), out
    assert any("fast=10 slow=20" in line for line in out.splitlines()) and "donchian_b…" in out
    assert all(row[-2].replace(".", "").isdigit() for row in rows), out  # sharpe shown, not cut away
    code, out, _ = cli(monkeypatch, capsys, "runs", "show", rows[0][0])
    assert code == 0 and out.startswith(f"run {rows[0][0]}")


@pytest.mark.req("DC-67")
def test_dc_67_data_list_wraps_to_80_columns(monkeypatch, capsys, goog_csv):
    imported = ["data", "import", str(goog_csv), "--dataset", "goog-daily", "--symbol", "GOOG"]
    code, _, _ = cli(monkeypatch, capsys, *imported)
    assert code == 0
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = cli(monkeypatch, capsys, "data", "list")
    assert code == 0 and widest(out) <= 80, out
    header, _, row = out.splitlines()[:3]
    assert header.split() == ["dataset", "version", "tf", "symbols", "first", "last", "bars", "gaps", "size"], out
    assert row.split()[0] == "goog-daily" and row.split()[-3:] == ["133", "14", "kB"], out  # nothing cut away
