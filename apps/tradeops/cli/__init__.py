"""The `tradeops` command line: the front door for people and pipelines."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from tradeops import __version__
from tradeops.cli import (
    backtest,
    backup,
    cleanup,
    gate,
    local,
    model,
    monitor,
    requirements,
    service,
    testreport,
    trader,
)
from tradeops.errors import TradeopsError

app = typer.Typer(
    help="tradeops: backtest-gated, versioned trading on Kubernetes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(backtest.app, name="backtest")
app.add_typer(requirements.app, name="requirements")
app.add_typer(testreport.app, name="tests")
app.add_typer(backup.app, name="backup")
app.add_typer(trader.app, name="trader")
app.add_typer(model.app, name="model")
app.add_typer(local.app, name="local")
app.add_typer(service.api_app, name="api")
app.add_typer(service.db_app, name="db")
app.command("gate")(gate.gate)
app.command("serve")(service.serve)
app.command("monitor")(monitor.monitor)
app.command("cleanup")(cleanup.cleanup)
backtest.app.command("watch")(service.watch)


def _load_plugins() -> None:
    """Let other packages add commands: each `tradeops.commands` entry point is `register(app)`."""
    for entry in entry_points(group="tradeops.commands"):
        entry.load()(app)


_load_plugins()


@app.command("warmup")
def warmup() -> None:
    """Compile and cache the engine (run at image build time so jobs start warm)."""
    from tradeops.engine.warmup import warm

    seconds = warm()
    Console(stderr=True, soft_wrap=True).print(f"engine compiled and cached in {seconds:.2f} s")


@app.command("version")
def version() -> None:
    """Print the tradeops version."""
    typer.echo(__version__)


def _fail(message: str) -> None:
    """One line on stderr, user text printed literally (no markup, no emoji), then exit code 2."""
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
    except SQLAlchemyError as error:  # the database named by TRADEOPS_DATABASE_URL cannot be used
        _fail(f"database: {getattr(error, 'orig', None) or error} (check TRADEOPS_DATABASE_URL)")
    except OSError as error:  # a file or folder named on the command line (or in settings) cannot be used
        where = f"{error.filename}: " if error.filename else ""
        _fail(f"{where}{error.strerror or error}")
    except Exception as error:  # noqa: BLE001 - never a traceback: name the failure, exit 2
        _fail(f"{type(error).__name__}: {error}")
