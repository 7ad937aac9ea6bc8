"""`tradeops backtest run|sweep|walkforward`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradeops.cli.options import (
    AsJson,
    Cash,
    Commission,
    Data,
    DirectionOpt,
    End,
    Fraction,
    MaxGap,
    Params,
    Report,
    SizingOpt,
    Slippage,
    Start,
    Strategy,
    emit_json,
    execution_settings,
    parse_grid,
    parse_params,
    progress_bar,
)
from tradeops.data import load_bars
from tradeops.data.window import window_from_options
from tradeops.engine import run_backtest, run_grid
from tradeops.engine.backtest import best_rows, json_number
from tradeops.engine.metrics import METRIC_NAMES
from tradeops.engine.result import result_to_dict
from tradeops.engine.walkforward import fold_windows, walk_forward, walk_forward_to_dict
from tradeops.errors import ConfigError
from tradeops.reports import write_report
from tradeops.strategies import get_strategy
from tradeops.strategies.base import expand_grid, validate_params

app = typer.Typer(help="Backtest a strategy on one parameter point or a grid.", no_args_is_help=True)
stderr = Console(stderr=True, soft_wrap=True)


def metrics_table(title: str, metrics: dict[str, float | None]) -> Table:
    """Render metrics as a two-column table."""
    table = Table(title=escape(title))
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, "n/a" if value is None else f"{value:,.4f}")
    return table


@app.command("run")
def run(
    strategy: Strategy,
    data: Data,
    param: Params = None,
    as_json: AsJson = False,
    report: Report = None,
    cash: Cash = None,
    commission: Commission = None,
    slippage: Slippage = None,
    sizing: SizingOpt = None,
    fraction: Fraction = None,
    direction: DirectionOpt = None,
    max_gap: MaxGap = None,
    start: Start = None,
    end: End = None,
) -> None:
    """Backtest one parameter point; print metrics (one JSON object with --json)."""
    chosen = get_strategy(strategy)
    params = validate_params(chosen, parse_params(param))
    settings = execution_settings(
        cash=cash, commission=commission, slippage=slippage, sizing=sizing, fraction=fraction, direction=direction
    )
    bars = load_bars(data, max_gap=max_gap, window=window_from_options(start, end))
    result = run_backtest(chosen, params, bars, settings)
    payload = result_to_dict(result)
    if report is not None:
        write_report(report, result)
        stderr.print(f"report written to {report}")
    if as_json:
        emit_json(payload)
        return
    Console().print(metrics_table(f"{strategy} {params.model_dump()} on {data}", payload["metrics"]))


@app.command("sweep")
def sweep(
    strategy: Strategy,
    data: Data,
    grid: Annotated[list[str], typer.Option("--grid", "-g", help="NAME=START:STOP:STEP (stop included) or NAME=V1,V2")],
    param: Params = None,
    as_json: AsJson = False,
    out: Annotated[Path | None, typer.Option("--out", help="write the full table here (.csv or .json)")] = None,
    sort_by: Annotated[str, typer.Option("--sort-by", help="metric that ranks the points")] = "sharpe",
    top: Annotated[int, typer.Option("--top", min=1, help="how many best points to show")] = 5,
    cash: Cash = None,
    commission: Commission = None,
    slippage: Slippage = None,
    sizing: SizingOpt = None,
    fraction: Fraction = None,
    direction: DirectionOpt = None,
    max_gap: MaxGap = None,
) -> None:
    """Backtest every point of a parameter grid; show the best points and write the full table."""
    if sort_by not in METRIC_NAMES:
        raise ConfigError(f"--sort-by {sort_by!r} is not a metric; metrics: {', '.join(METRIC_NAMES)}")
    if out is not None and out.suffix not in (".csv", ".json"):
        raise ConfigError(f"--out {out}: use a .csv or .json file")
    chosen = get_strategy(strategy)
    settings = execution_settings(
        cash=cash, commission=commission, slippage=slippage, sizing=sizing, fraction=fraction, direction=direction
    )
    points, invalid = expand_grid(chosen, parse_params(param), parse_grid(grid))
    if not points:
        raise ConfigError(f"all {invalid} grid points are invalid for {strategy} (e.g. fast >= slow)")
    bars = load_bars(data, max_gap=max_gap)
    with progress_bar(transient=as_json) as progress:
        task = progress.add_task(f"{strategy} x {len(points)} points", total=len(points))
        table = run_grid(chosen, points, bars, settings, progress=lambda n: progress.advance(task, n))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False) if out.suffix == ".csv" else table.to_json(out, orient="records", indent=2)
    best = best_rows(table, sort_by, top)
    records = [
        {k: json_number(v) if isinstance(v, float) else v for k, v in row.items()} for row in best.to_dict("records")
    ]
    if as_json:
        emit_json(
            {
                "strategy": strategy,
                "data": data,
                "points": len(points),
                "invalid_points": invalid,
                "sort_by": sort_by,
                "best": records,
                "table": str(out) if out else None,
            }
        )
        return
    view = Table(title=f"best {len(best)} of {len(points)} points by {sort_by} ({invalid} invalid skipped)")
    columns = [*points[0].model_dump(), "sharpe", "total_return_pct", "max_drawdown_pct", "trades"]
    for column in columns:
        view.add_column(column, justify="right")
    for row in records:
        view.add_row(*("n/a" if row[c] is None else f"{row[c]:,.4g}" for c in columns))
    Console().print(view)


@app.command("walkforward")
def walkforward(
    strategy: Strategy,
    data: Data,
    grid: Annotated[list[str], typer.Option("--grid", "-g", help="NAME=START:STOP:STEP (stop included) or NAME=V1,V2")],
    train_bars: Annotated[int, typer.Option("--train-bars", min=3, help="bars each choice is made on")],
    test_bars: Annotated[int, typer.Option("--test-bars", min=3, help="bars each choice is then tested on")],
    anchored: Annotated[bool, typer.Option("--anchored", help="train windows grow from the first bar")] = False,
    param: Params = None,
    as_json: AsJson = False,
    sort_by: Annotated[str, typer.Option("--sort-by", help="metric that chooses the point per fold")] = "sharpe",
    cash: Cash = None,
    commission: Commission = None,
    slippage: Slippage = None,
    sizing: SizingOpt = None,
    fraction: Fraction = None,
    direction: DirectionOpt = None,
    max_gap: MaxGap = None,
) -> None:
    """Walk-forward: per fold choose the best grid point on the train window, test it on the next window."""
    if sort_by not in METRIC_NAMES:
        raise ConfigError(f"--sort-by {sort_by!r} is not a metric; metrics: {', '.join(METRIC_NAMES)}")
    chosen = get_strategy(strategy)
    settings = execution_settings(
        cash=cash, commission=commission, slippage=slippage, sizing=sizing, fraction=fraction, direction=direction
    )
    varied = parse_grid(grid)
    points, invalid = expand_grid(chosen, parse_params(param), varied)
    if not points:
        raise ConfigError(f"all {invalid} grid points are invalid for {strategy} (e.g. fast >= slow)")
    bars = load_bars(data, max_gap=max_gap)
    folds = len(fold_windows(bars, train_bars, test_bars, anchored))
    with progress_bar(transient=as_json) as progress:
        task = progress.add_task(f"{strategy}: {folds} folds x {len(points)} points", total=folds * (len(points) + 1))
        result = walk_forward(
            chosen,
            points,
            bars,
            settings,
            train_bars=train_bars,
            test_bars=test_bars,
            anchored=anchored,
            sort_by=sort_by,
            progress=lambda n: progress.advance(task, n),
        )
    payload = walk_forward_to_dict(result)
    if as_json:
        emit_json(payload)
        return
    names = list(varied)
    view = Table(title=f"{strategy} walk-forward on {data}: {folds} folds, {len(points)} points, by {sort_by}")
    for column in ["fold", "test from", *names, f"train {sort_by}", "oos sharpe", "oos return %", "oos trades"]:
        view.add_column(column, justify="right")
    for fold in payload["folds"]:
        oos = fold["oos_metrics"]
        view.add_row(
            str(fold["fold"]),
            fold["test"]["start"][:10],
            *(str(fold["params"][n]) for n in names),
            _number(fold["train_metrics"][sort_by]),
            _number(oos["sharpe"]),
            _number(oos["total_return_pct"]),
            _number(oos["trades"]),
        )
    console = Console()
    console.print(view)
    aggregate = payload["oos"]
    console.print(
        metrics_table(f"out of sample {aggregate['start'][:10]} to {aggregate['end'][:10]}", aggregate["metrics"])
    )


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.4g}"
