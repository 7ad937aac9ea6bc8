"""The help pages a new user reads first: commands grouped in the order they are met, flags without `<bool>`, fast."""

from __future__ import annotations

import re

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.cli.test_lazy_imports import ENGINE, imported_by

PANELS = ["Research", "Trade", "Operate", "Deploy", "Develop"]


def help_page(monkeypatch, capsys, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = cli(monkeypatch, capsys, *args, "--help")
    assert code == 0
    return out


@pytest.mark.req("DC-67")
def test_dc_67_root_help_groups_commands_in_the_order_a_new_user_meets_them(monkeypatch, capsys):
    out = help_page(monkeypatch, capsys)
    panels = [name for name in re.findall(r"╭─ (\w+) ", out) if name not in ("Options",)]
    assert panels == PANELS, panels
    listed = re.findall(r"^│ ([a-z][a-z-]+) ", out, re.MULTILINE)
    assert listed[:4] == ["strategies", "backtest", "gate", "runs"], listed
    assert listed.index("deploy") < listed.index("rollback") < listed.index("pipeline")
    assert listed[-1] == "version"


@pytest.mark.req("DC-67")
@pytest.mark.parametrize("args", [(), ("backtest",), ("backtest", "run"), ("gate",), ("runs", "list")], ids=" ".join)
def test_dc_67_help_shows_flags_without_a_bool_type(args, monkeypatch, capsys):
    out = help_page(monkeypatch, capsys, *args)
    assert "--help" in out and "<bool>" not in out, out


@pytest.mark.req("DC-67")
def test_dc_67_backtest_help_imports_no_engine(tmp_path):
    code, modules = imported_by(tmp_path, "backtest", "--help")
    assert code == 0
    assert not modules & (ENGINE | {"pandas", "sqlalchemy"}), sorted(modules & (ENGINE | {"pandas", "sqlalchemy"}))


@pytest.mark.req("DC-67")
def test_dc_67_warmup_reports_the_commands_own_elapsed_time_to_a_tenth_of_a_second(monkeypatch, capsys):
    import time

    import tradeops.cli

    monkeypatch.setattr(tradeops.cli, "STARTED", time.perf_counter() - 5.0, raising=False)  # began 5 s ago
    code, _, err = cli(monkeypatch, capsys, "warmup")
    assert code == 0
    match = re.search(r"took (\d+\.\d) s$", err.strip())
    assert match and float(match.group(1)) >= 5.0, err  # counted from the command's start, not the last step's
