"""The execution options are declared once and every command that simulates takes them the same way."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tradeops.cli import app, command_tree
from tradeops.cli.options import EXECUTION_OPTIONS

SIMULATING = {
    ("backtest", "run"),
    ("backtest", "sweep"),
    ("backtest", "walkforward"),
    ("gate",),
    ("sweep", "submit"),
    ("backtest", "optimize"),
    ("trader", "replay"),
}


def _commands(group: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    found: dict[tuple[str, ...], Any] = {}
    for name, command in group.commands.items():
        found[(*path, name)] = command
        if hasattr(command, "commands"):  # a group
            found |= _commands(command, (*path, name))
    return found


def _help(option: object) -> str:
    return next(m.help for m in getattr(option, "__metadata__", ()) if hasattr(m, "help"))


@pytest.mark.req("DC-18")
def test_dc_18_execution_options_are_declared_once_and_read_the_same_in_every_command():
    commands = _commands(command_tree())
    taking = {path for path, command in commands.items() if any(p.name == "cash" for p in command.params)}
    assert taking >= SIMULATING
    for path in taking:
        options = {p.name: p for p in commands[path].params if p.name in EXECUTION_OPTIONS}
        for name, option in options.items():
            assert option.help == _help(EXECUTION_OPTIONS[name]), (path, name)
            assert option.default is None, (path, name)  # not given: the candidate's or the default settings apply
        if path in SIMULATING:
            assert set(options) == set(EXECUTION_OPTIONS), path


@pytest.mark.req("DC-18")
def test_dc_18_given_execution_options_reach_the_run_and_bad_ones_are_refused():
    runner = CliRunner()
    given = ["--cash", "5000", "--commission", "0.001", "--direction", "long_short"]
    done = runner.invoke(
        app, ["backtest", "run", "-s", "sma_cross", "-d", "sample:GOOG", "--json", "--no-store", *given]
    )
    assert done.exit_code == 0, done.output
    execution = json.loads(done.stdout)["execution"]
    assert (execution["cash"], execution["commission"], execution["direction"]) == (5000.0, 0.001, "long_short")
    assert execution["slippage"] == 0.0  # not given: the default
    refused = runner.invoke(app, ["gate", "--strategy", "sma_cross", "-d", "sample:GOOG", "--json", "--cash", "-5"])
    assert refused.exit_code == 2
    assert "cash" in json.loads(refused.stdout)["error"]


@pytest.mark.req("DC-18")
def test_dc_18_help_shows_the_defaults_literally():
    page = CliRunner().invoke(app, ["backtest", "run", "--help"], env={"COLUMNS": "250"}).output
    assert "initial cash (default: 10000)" in page
