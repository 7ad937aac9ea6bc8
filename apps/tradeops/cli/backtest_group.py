"""`tradeops backtest ...`: its commands declared as a table, so `tradeops backtest --help` imports no engine."""

from __future__ import annotations

import typer

from tradeops.cli.lazy import CommandTable, LazyGroup

BACKTEST = CommandTable()
BACKTEST.add(
    "run",
    "tradeops.cli.backtest:run",
    "Backtest one parameter point; print metrics (one JSON object with --json); record it for `tradeops runs`.",
)
BACKTEST.add(
    "sweep",
    "tradeops.cli.backtest:sweep",
    "Backtest every point of a parameter grid; show the best points and write the full table.",
)
BACKTEST.add(
    "walkforward",
    "tradeops.cli.backtest:walkforward",
    "Walk-forward: per fold choose the best grid point on the train window, test it on the next window.",
)
BACKTEST.add(
    "optimize",
    "tradeops.cli.optimize:optimize",
    "Search the parameter space for the best objective; the best trial then goes through the gate.",
)
BACKTEST.add(
    "merge",
    "tradeops.cli.shards:merge",
    "Check that parts are one sweep's every shard exactly once; write the table the unsharded run writes.",
)
BACKTEST.add(
    "watch",
    "tradeops.cli.service:watch",
    "Gate the candidate every time the file changes; store, compare and notify without any API call.",
)


class BacktestGroup(LazyGroup):
    """`tradeops backtest`: each command imported when it runs."""

    table = BACKTEST


app = typer.Typer(help="Backtest a strategy on one parameter point or a grid.", no_args_is_help=True, cls=BacktestGroup)


@app.callback()
def backtest() -> None:
    """Backtest a strategy on one parameter point or a grid."""  # a group of declared commands only needs a callback
