"""The `tradeops` command line: the front door for people and pipelines."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from tradeops import __version__
from tradeops.cli import (
    backtest,
    backup,
    cleanup,
    data,
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
app.add_typer(data.app, name="data")
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


def main() -> None:
    """Run the CLI; a TradeopsError becomes one line on stderr and exit code 2."""
    try:
        app()  # standalone mode: usage errors and typer.Exit end the process with their own codes
    except TradeopsError as error:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        sys.exit(2)
    except SQLAlchemyError as error:  # the database named by TRADEOPS_DATABASE_URL cannot be used
        reason = getattr(error, "orig", None) or error
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]database error:[/] {escape(str(reason))} (check TRADEOPS_DATABASE_URL)", highlight=False
        )
        sys.exit(2)
