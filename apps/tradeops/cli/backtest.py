"""`tradeops backtest run|sweep|walkforward` (declared in backtest_group, imported only when one of them runs)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradeops.cli.options import (
    GIVEN_NONE,
    AsJson,
    Data,
    End,
    ExecutionOptions,
    MaxGap,
    Params,
    Report,
    Start,
    Strategy,
    emit_json,
    emit_text,
    execution_options,
    parse_grid,
    parse_params,
    plain_console,
    progress_bar,
    report_option,
    warn_short_window,
    warn_skipped,
)
from tradeops.cli.shards import ShardOpt, Workers, write_shard
from tradeops.data import load_bars
from tradeops.data.window import window_from_options
from tradeops.engine import run_backtest, run_grid
from tradeops.engine.backtest import grid_summary
from tradeops.engine.limits import check_grid_points
from tradeops.engine.metrics import METRIC_NAMES
from tradeops.engine.result import result_json, result_to_dict
from tradeops.engine.walkforward import TRADES_NOTE, fold_windows, walk_forward, walk_forward_to_dict
from tradeops.errors import ConfigError
from tradeops.reports import write_report
from tradeops.settings import load_settings
from tradeops.strategies import get_strategy
from tradeops.strategies.base import expand_grid, no_valid_points, validate_params
from tradeops.sweeps.found import best_candidate, found_candidate, write_candidate
from tradeops.sweeps.local import TABLE_SUFFIXES, run_sharded, walkforward_payload, write_table
from tradeops.sweeps.results import best_records
from tradeops.sweeps.spec import SweepSpec

stderr = plain_console(stderr=True)


def metrics_table(title: str, metrics: dict[str, float | None]) -> Table:
    """Render metrics as a two-column table."""
    table = Table(title=escape(title))
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, "n/a" if value is None else f"{value:,.4f}")
    return table


@execution_options()
def run(
    strategy: Strategy,
    data: Data,
    param: Params = None,
    as_json: AsJson = False,
    report: Report = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="do not record the run in the results store")] = False,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
    start: Start = None,
    end: End = None,
) -> None:
    """Backtest one parameter point; print metrics (one JSON object with --json); record it for `tradeops runs`."""
    chosen = get_strategy(strategy)
    params = validate_params(chosen, parse_params(param))
    settings = execution.settings()
    limits = load_settings().limits
    bars = load_bars(data, max_gap=max_gap, max_bars=limits.max_bars, window=window_from_options(start, end))
    warn_short_window(strategy, params.model_dump(), bars)
    result = run_backtest(chosen, params, bars, settings)
    warn_skipped(result.metrics["skipped_entries"], bars, result.settings)
    payload = result_to_dict(result)
    if report is not None:
        write_report(report, result)
        stderr.print(f"report written to {report}")
    if not no_store:
        from tradeops.cli.runs import store_cli_run

        stderr.print(f"stored as run {store_cli_run(result, payload, data)} (`tradeops runs show ID`)")
    if as_json:
        emit_text(result_json(payload))
        return
    Console(emoji=False).print(metrics_table(f"{strategy} {params.model_dump()} on {data}", payload["metrics"]))


def _write_found(path: Path | None, found: dict) -> None:
    if path is not None:
        write_candidate(path, found)
        stderr.print(f"candidate written to {path} (best of {found['provenance']['trials']} trials)")


@execution_options()
def sweep(
    strategy: Strategy,
    data: Data,
    grid: Annotated[list[str], typer.Option("--grid", "-g", help="NAME=START:STOP:STEP (stop included) or NAME=V1,V2")],
    param: Params = None,
    as_json: AsJson = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="write the full table here (.csv/.json/.parquet; the part with --shard)"),
    ] = None,
    sort_by: Annotated[str, typer.Option("--sort-by", help="metric that ranks the points")] = "sharpe",
    top: Annotated[int, typer.Option("--top", min=1, help="how many best points to show")] = 5,
    shard: ShardOpt = None,
    workers: Workers = 1,
    report: Annotated[
        Path | None, report_option("write an HTML heatmap of --sort-by over the first two --grid names")
    ] = None,
    candidate_out: Annotated[
        Path | None,
        typer.Option("--candidate-out", help="write the best point as a candidate file (.yaml) with its provenance"),
    ] = None,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
) -> None:
    """Backtest every point of a parameter grid; show the best points and write the full table."""
    if sort_by not in METRIC_NAMES:
        raise ConfigError(f"--sort-by {sort_by!r} is not a metric; metrics: {', '.join(METRIC_NAMES)}")
    if out is not None and shard is None and out.suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"--out {out}: use a .csv, .json or .parquet file")
    chosen = get_strategy(strategy)
    settings = execution.settings()
    axes = parse_grid(grid)
    if report is not None and len(axes) < 2:
        raise ConfigError(f"--report needs two --grid parameters for its heatmap (given: {', '.join(axes)})")
    combinations = math.prod(len(values) for values in axes.values())
    stderr.print(f"grid: {combinations:,} points", highlight=False)  # before any work: a huge grid never hangs
    limits = load_settings().limits
    check_grid_points(combinations, limits)
    points, invalid = expand_grid(chosen, parse_params(param), axes)
    if not points:
        raise no_valid_points(chosen, parse_params(param), axes, invalid)
    spec = SweepSpec(
        strategy=strategy,
        data=data,
        max_gap=max_gap,
        params=parse_params(param),
        grid=axes,
        settings=settings.model_dump(mode="json"),
        sort_by=sort_by,
    )
    if shard is not None:
        return write_shard(spec, shard, out, as_json)
    subtitle = f"data {data}"
    if workers > 1:
        table = run_sharded(spec, workers, shards=min(workers, len(points))).table
    else:
        bars = load_bars(data, max_gap=max_gap, max_bars=limits.max_bars)
        stderr.print(grid_summary(len(points), bars), highlight=False)
        subtitle = f"data {bars.name} version {bars.fingerprint()}, {bars.index[0]} to {bars.index[-1]}"
        with progress_bar(transient=as_json) as progress:
            task = progress.add_task(f"{strategy} x {len(points)} points", total=len(points))
            table = run_grid(chosen, points, bars, settings, progress=lambda n: progress.advance(task, n))
        warn_skipped(float(table["skipped_entries"].max()), bars, settings)  # the worst point's count
    if report is not None:
        from tradeops.reports.html import write_html
        from tradeops.reports.pages import sweep_page

        title = f"{strategy} sweep on {data}: {len(points)} points"
        write_html(report, sweep_page(table, list(axes), title=title, subtitle=subtitle, metric=sort_by))
        stderr.print(f"report written to {report}")
    if out is not None:
        write_table(table, out)
    records = best_records(table, sort_by, top)
    found = best_candidate(
        table, sort_by, strategy=strategy, data=data, grid=axes, execution=settings.model_dump(mode="json")
    )
    _write_found(candidate_out, found)
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
                "candidate": found,
            }
        )
        return
    view = Table(title=f"best {len(records)} of {len(points)} points by {sort_by} ({invalid} invalid skipped)")
    columns = [*points[0].model_dump(), "sharpe", "total_return_pct", "max_drawdown_pct", "trades"]
    for column in columns:
        view.add_column(column, justify="right")
    for row in records:
        view.add_row(*("n/a" if row[c] is None else f"{row[c]:,.4g}" for c in columns))
    Console(emoji=False).print(view)


@execution_options()
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
    shard: ShardOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="with --shard: the part file (.parquet)")] = None,
    workers: Workers = 1,
    report: Annotated[Path | None, report_option("write an HTML report: folds on the equity")] = None,
    candidate_out: Annotated[
        Path | None,
        typer.Option("--candidate-out", help="write the last fold's choice as a candidate file with its provenance"),
    ] = None,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
) -> None:
    """Walk-forward: per fold choose the best grid point on the train window, test it on the next window."""
    if sort_by not in METRIC_NAMES:
        raise ConfigError(f"--sort-by {sort_by!r} is not a metric; metrics: {', '.join(METRIC_NAMES)}")
    chosen = get_strategy(strategy)
    settings = execution.settings()
    varied = parse_grid(grid)
    points, invalid = expand_grid(chosen, parse_params(param), varied)
    if not points:
        raise no_valid_points(chosen, parse_params(param), varied, invalid)
    spec = SweepSpec(
        kind="walkforward",
        strategy=strategy,
        data=data,
        max_gap=max_gap,
        params=parse_params(param),
        grid=varied,
        settings=settings.model_dump(mode="json"),
        train_bars=train_bars,
        test_bars=test_bars,
        anchored=anchored,
        sort_by=sort_by,
    )
    if shard is not None:
        return write_shard(spec, shard, out, as_json)
    bars = load_bars(data, max_gap=max_gap)
    folds = len(fold_windows(bars, train_bars, test_bars, anchored))
    if workers > 1:
        if report is not None:
            raise ConfigError("--report draws one walk-forward run: use it without --workers")
        payload = walkforward_payload(run_sharded(spec, workers, shards=min(workers, folds)))
    else:
        with progress_bar(transient=as_json) as progress:
            total = folds * (len(points) + 1)
            task = progress.add_task(f"{strategy}: {folds} folds x {len(points)} points", total=total)
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
        warn_skipped(result.metrics["skipped_entries"], bars, settings)
        payload = walk_forward_to_dict(result)
        if report is not None:
            from tradeops.reports.html import write_html
            from tradeops.reports.pages import walkforward_page

            title = f"{strategy} walk-forward on {data}: {folds} folds"
            subtitle = f"data {bars.name} version {bars.fingerprint()}; train {train_bars} bars, test {test_bars} bars"
            write_html(report, walkforward_page(result, title=title, subtitle=subtitle))
            stderr.print(f"report written to {report}")
    payload["candidate"] = found_candidate(  # what trades next: the last fold's choice among the grid's points
        strategy=strategy,
        data=data,
        params=payload["folds"][-1]["params"],
        execution=settings.model_dump(mode="json"),
        method="walkforward",
        trials=len(points),
        variance=None,
        grid=varied,
    )
    _write_found(candidate_out, payload["candidate"])
    if as_json:
        emit_json(payload)
        return
    names = list(varied)
    view = Table(
        title=f"{strategy} walk-forward on {data}: {folds} folds, {len(points)} points, by {sort_by}",
        caption=TRADES_NOTE,
    )
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
            str(fold["oos_trades"]),
        )
    console = Console(emoji=False)
    console.print(view)
    aggregate = payload["oos"]
    console.print(
        metrics_table(f"out of sample {aggregate['start'][:10]} to {aggregate['end'][:10]}", aggregate["metrics"])
    )


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.4g}"
