"""A command imports only what it uses: each command runs in a fresh process and we look at sys.modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.core import TyperGroup

from tradeops.cli import COMMANDS, command_tree

ENGINE = {"numba", "vectorbt", "scipy", "sklearn"}
PROBE = """
import json, sys
sys.argv = ["tradeops", *json.loads(sys.argv[1])]
from tradeops.cli import main
code = 0
try:
    main()
except SystemExit as done:
    code = done.code or 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
# What numba imports of scipy by itself: its CPU target probes scipy's BLAS (all of scipy.linalg) on first use.
NUMBA_ALONE = """
import json, sys
from numba import njit
njit(lambda x: x + 1)(1.0)
print(json.dumps(sorted(name for name in sys.modules if name.startswith("scipy"))))
"""


def imported_by(tmp_path, *args: str, full: bool = False) -> tuple[int, set[str]]:
    """Run `tradeops *args` in a fresh interpreter (embedded defaults under tmp_path); its exit code and top modules
    (every module with `full`)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADEOPS_")}
    env |= {"TRADEOPS_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1", "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.stdout.strip(), done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    modules = set(report["modules"])
    return report["code"], modules if full else {name.split(".")[0] for name in modules}


# command line -> heavy modules it must not import (SQLAlchemy only where the command reads the database)
LIGHT = {
    ("--help",): ENGINE | {"sqlalchemy", "pandas"},
    ("version",): ENGINE | {"sqlalchemy", "pandas"},
    ("backup", "list"): ENGINE | {"sqlalchemy", "pandas"},
    ("backup", "--help"): ENGINE | {"sqlalchemy", "pandas"},
    ("cleanup",): ENGINE | {"pandas"},
    ("monitor", "--once", "--target", "backtester=http://127.0.0.1:9"): ENGINE | {"pandas"},
    ("deploy", "--help"): ENGINE | {"sqlalchemy", "pandas"},
    ("releases", "--stack", "dev"): ENGINE | {"sqlalchemy", "pandas"},
    ("config", "check"): ENGINE | {"sqlalchemy", "pandas"},
    ("config", "--help"): ENGINE | {"sqlalchemy", "pandas"},
}


@pytest.mark.req("DC-18")
@pytest.mark.parametrize("args", list(LIGHT), ids=" ".join)
def test_dc_18_a_command_imports_only_what_it_uses(tmp_path, args):
    code, modules = imported_by(tmp_path, *args)
    assert code in (0, 1), f"tradeops {' '.join(args)} failed with {code}"
    assert not modules & LIGHT[args], f"tradeops {' '.join(args)} imported {sorted(modules & LIGHT[args])}"


@pytest.mark.req("DC-18")
def test_dc_18_a_backtest_imports_the_engine_it_uses(tmp_path):
    code, modules = imported_by(tmp_path, "backtest", "run", "--strategy", "sma_cross", "--data", "sample:GOOG")
    assert code == 0 and "numba" in modules


# The engine's order core is our own (tradeops.engine.orders): the gate and a backtest never import vectorbt (and
# with it scipy.stats, plotly, ipywidgets); a report is not asked for, so no plotly either.
NOT_ON_THE_ENGINE_PATH = {"vectorbt", "plotly", "ipywidgets", "sklearn"}
ENGINE_COMMANDS = {
    "gate": "gate --strategy sma_cross --param fast=10 --param slow=30 --data sample:GOOG --out verdict.json",
    "backtest": "backtest run --strategy sma_cross --data sample:GOOG --no-store --json",
}


@pytest.fixture(scope="module")
def scipy_numba_imports() -> set[str]:
    done = subprocess.run([sys.executable, "-c", NUMBA_ALONE], capture_output=True, text=True, timeout=300, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.req("DC-18")
@pytest.mark.parametrize("command", list(ENGINE_COMMANDS))
def test_dc_18_the_gate_and_a_backtest_import_neither_vectorbt_nor_plotly_nor_more_scipy_than_numba(
    tmp_path, command, scipy_numba_imports
):
    code, modules = imported_by(tmp_path, *ENGINE_COMMANDS[command].split(), full=True)
    top = {name.split(".")[0] for name in modules}
    assert code == 0 and "numba" in top
    assert not top & NOT_ON_THE_ENGINE_PATH, f"tradeops {command} imported {sorted(top & NOT_ON_THE_ENGINE_PATH)}"
    scipy = {name for name in modules if name.split(".")[0] == "scipy"}
    assert scipy <= scipy_numba_imports, (
        f"tradeops {command} imported scipy beyond numba: {sorted(scipy - scipy_numba_imports)}"
    )
    assert "scipy.stats" not in scipy


@pytest.mark.req("DC-18")
def test_dc_18_the_help_page_lists_every_declared_command_with_its_help(tmp_path, capsys):
    from tradeops.cli import main

    sys.argv = ["tradeops", "--help"]
    with pytest.raises(SystemExit):
        main()
    page = " ".join(capsys.readouterr().out.split())
    names = [entry.name for entry in COMMANDS]
    assert {"gate", "backup", "deploy", "pipeline"} <= set(names)
    for entry in COMMANDS:
        assert entry.name in page and " ".join(entry.help.split()[:3]) in page
    tree = command_tree()
    assert set(names) <= set(tree.commands)
    assert isinstance(tree.commands["backup"], TyperGroup) and "list" in tree.commands["backup"].commands
    assert "watch" in tree.commands["backtest"].commands


@pytest.mark.req("DC-18")
def test_dc_18_a_command_is_declared_once():
    with pytest.raises(ValueError, match="declared twice"):
        COMMANDS.add("gate", "tradeops.cli.gate:gate", "again")
