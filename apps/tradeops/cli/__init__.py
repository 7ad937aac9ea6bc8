"""The `tradeops` command line: the front door for people and pipelines.

Every command is declared in `COMMANDS` below as name -> ("module:attr", help) and imported only when
it runs, so `tradeops --help` or `tradeops backup list` never pays for the engine. To add a command,
write `apps/tradeops/cli/<name>.py` (a `typer.Typer` named `app` for a group, or a function for one
command; heavy imports inside the functions) and add ONE line to the table.
"""

from __future__ import annotations

import sys
import time
from importlib.metadata import entry_points

import typer

from tradeops import __version__
from tradeops.cli.lazy import CommandTable, LazyGroup
from tradeops.cli.panels import DEVELOP, OPERATE, RESEARCH, TRADE
from tradeops.errors import TradeopsError, database_failure

STARTED = time.perf_counter()  # when the command began (this module is the first the console script imports)
COMMANDS = CommandTable()
# name, "module:attr" (a typer.Typer for a group, a function for one command), one-line help (`--help`), heading
COMMANDS.add("strategies", "tradeops.cli.strategies:strategies", "Every strategy with its parameters.", RESEARCH)
COMMANDS.add(
    "backtest", "tradeops.cli.backtest_group:app", "Backtest a strategy on one parameter point or a grid.", RESEARCH
)
COMMANDS.add(
    "gate", "tradeops.cli.gate:gate", "Judge a candidate against its thresholds; every check is printed.", RESEARCH
)
COMMANDS.add("runs", "tradeops.cli.runs:app", "Stored runs: list, show, compare, export.", RESEARCH)
COMMANDS.add(
    "data", "tradeops.cli.data:app", "Versioned market datasets: import, fetch, list, show, check, sync.", RESEARCH
)
COMMANDS.add("model", "tradeops.cli.model:app", "Train, list and show ml_classifier model versions.", RESEARCH)
COMMANDS.add(
    "sweep", "tradeops.cli.sweep:app", "Sharded sweeps as Kubernetes Indexed Jobs: submit, status, collect.", RESEARCH
)
COMMANDS.add(
    "trader", "tradeops.cli.trader:app", "Paper-trade through the live loop, and the trader's kill switch.", TRADE
)
COMMANDS.add(
    "local", "tradeops.cli.local:app", "The whole stack on one machine (SQLite, a folder, the console).", TRADE
)
COMMANDS.add("serve", "tradeops.cli.service:serve", "Run a service (settings from TRADEOPS_* variables).", TRADE)
COMMANDS.add("mcp", "tradeops.cli.mcpserver:app", "The Model Context Protocol server for AI assistants.", TRADE)
COMMANDS.add(
    "monitor", "tradeops.cli.monitor:monitor", "Check the services, the backups, the gate and the CronJobs.", OPERATE
)
COMMANDS.add(
    "backup", "tradeops.cli.backup:app", "Backups with verified restores (database and object store).", OPERATE
)
COMMANDS.add(
    "cleanup", "tradeops.cli.cleanup:cleanup", "Remove old runs, orphaned artifacts and old finished Jobs.", OPERATE
)
COMMANDS.add("db", "tradeops.cli.service:db_app", "The results database.", OPERATE)
COMMANDS.add("warmup", "tradeops.cli:warmup", "Compile and cache the engine (image build time).", OPERATE)
COMMANDS.add("api", "tradeops.cli.service:api_app", "The HTTP API's published documents.", DEVELOP)
COMMANDS.add("requirements", "tradeops.cli.requirements:app", "Requirements traceability.", DEVELOP)
COMMANDS.add("tests", "tradeops.cli.testreport:app", "Reports of a test run.", DEVELOP)


class TradeopsGroup(LazyGroup):
    """The root group: the declared commands, plus every plugin's (`tradeops.commands` entry points)."""

    table = COMMANDS


app = typer.Typer(
    help="tradeops: backtest-gated, versioned trading on Kubernetes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=TradeopsGroup,
)


@app.callback()
def tradeops() -> None:
    """tradeops: backtest-gated, versioned trading on Kubernetes."""  # every command is declared in COMMANDS


def _load_plugins() -> None:
    """Let other packages add commands: each `tradeops.commands` entry point is `register(COMMANDS)`."""
    for entry in entry_points(group="tradeops.commands"):
        entry.load()(COMMANDS)


_load_plugins()
COMMANDS.add("version", "tradeops.cli:version", "Print the tradeops version.", DEVELOP)  # last


def warmup() -> None:
    """Compile and cache the engine (run at image build time so jobs start warm)."""
    from rich.console import Console

    from tradeops.engine.warmup import warm

    warm()
    elapsed = time.perf_counter() - STARTED  # the whole command: loading the engine is most of it
    Console(stderr=True, soft_wrap=True).print(f"engine compiled and cached; the command took {elapsed:.1f} s")


def version() -> None:
    """Print the tradeops version."""
    typer.echo(__version__)


def command_tree() -> typer.core.TyperGroup:
    """The whole click tree with every command imported (for checks that walk it, e.g. the docs tests)."""
    from tradeops.cli.lazy import load_tree

    group = typer.main.get_command(app)
    assert isinstance(group, TradeopsGroup)
    load_tree(group)
    return group


def _fail(message: str) -> None:
    """One line on stderr, user text printed literally (no markup, no emoji), then exit code 2."""
    from rich.console import Console

    console = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)
    console.print("error:", style="bold red", end=" ")
    console.print(message, markup=False)
    sys.exit(2)


def main() -> None:
    """Run the CLI; any failure that is not a verdict is one line on stderr and exit 2 (docs/README.md: exit codes)."""
    try:
        app()  # standalone mode: usage errors and typer.Exit end the process with their own codes
    except TradeopsError as error:
        _fail(str(error))
    except OSError as error:  # a file or folder named on the command line (or in settings) cannot be used
        where = f"{error.filename}: " if error.filename else ""
        _fail(f"{where}{error.strerror or error}")
    except Exception as error:  # noqa: BLE001 - never a traceback: name the failure, exit 2
        if _is_database_error(error):  # the database named by TRADEOPS_DATABASE_URL cannot be used
            _fail(database_failure(error))
        _fail(f"{type(error).__name__}: {error}")


def run() -> None:
    """The console script `tradeops`: `main`, then a fast process exit (see cli/process.py)."""
    from tradeops.cli.process import run as run_to_exit

    run_to_exit(main)


def _is_database_error(error: Exception) -> bool:
    """Whether `error` is SQLAlchemy's (only a command that imported SQLAlchemy can raise one)."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(error, sqlalchemy_exc.SQLAlchemyError)
