"""`tradeops runs list|show|compare|export`: the stored runs (API, watcher and CLI alike)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradeops.cli.options import AsJson, emit_json
from tradeops.errors import ConfigError
from tradeops.settings import load_settings

if TYPE_CHECKING:
    from tradeops.engine.backtest import BacktestResult
    from tradeops.store import Run, RunStore

app = typer.Typer(help="List, show, compare and export stored runs.", no_args_is_help=True)
COMPARED = (
    "total_return_pct",
    "cagr_pct",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown_pct",
    "profit_factor",
    "win_rate_pct",
    "exposure_pct",
    "trades",
    "excess_return_pct",
)


def open_store() -> RunStore:
    from tradeops.store import RunStore

    settings = load_settings()
    return RunStore.from_settings(settings)


def store_cli_run(result: BacktestResult, payload: dict[str, Any], data: str) -> str:
    """Record a finished CLI backtest (source `cli`) with its equity curve; return its id."""
    import socket

    from tradeops.engine.result import ENGINE_VERSION, equity_points

    store = open_store()
    try:
        run = store.create(
            kind="backtest",
            strategy=result.strategy,
            params=result.params,
            request={
                "strategy": result.strategy,
                "params": result.params,
                "data": data,
                "execution": payload["execution"],
            },
            data_ref=data,
            source="cli",
            owner=socket.gethostname(),
        )
        store.mark_running(run.id)
        store.finish(
            run.id,
            result=payload | {"equity": equity_points(result.equity)},
            metrics=payload["metrics"],
            verdict=None,
            data_fingerprint=payload["data"]["fingerprint"],
            engine_version=ENGINE_VERSION,
            report_key=None,
        )
        return run.id
    finally:
        store.close()


SHORT_ID = 8  # `runs list` prints ids this long; every command taking an id takes a unique prefix


def fetch_runs(run_ids: list[str]) -> list[Run]:
    """The stored runs, in the order named (a whole id or a unique prefix); a ConfigError names the first unknown
    or ambiguous one."""
    store = open_store()
    try:
        return [_fetch_one(store, run_id) for run_id in run_ids]
    finally:
        store.close()


def _fetch_one(store: RunStore, run_id: str) -> Run:
    run = store.get(run_id)
    if run is None and len(run_id) >= 4:
        matches = store.ids_starting_with(run_id)
        if len(matches) > 1:
            raise ConfigError(f"run id {run_id!r} is ambiguous ({', '.join(matches)}, ...); give more characters")
        run = store.get(matches[0]) if matches else None
    if run is None:
        raise ConfigError(f"no stored run {run_id!r}; `tradeops runs list` shows the ids")
    return run


def _cell(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}g}" if isinstance(value, float) else str(value)


@app.command("list")
def list_runs(
    strategy: Annotated[str | None, typer.Option("--strategy", "-s", help="only this strategy's runs")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="backtest, sweep or gate")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="newest this many")] = 20,
    as_json: AsJson = False,
) -> None:
    """Stored runs, newest first."""
    from tradeops.store.runs import KINDS

    if kind is not None and kind not in KINDS:
        raise ConfigError(f"--kind {kind!r} is not a kind of run; kinds: {', '.join(KINDS)}")
    store = open_store()
    try:
        runs, total = store.list_runs(kind=kind, strategy=strategy, limit=limit)
    finally:
        store.close()
    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "kind": r.kind,
            "status": r.status,
            "source": r.source,
            "strategy": r.strategy,
            "params": r.params,
            "data": r.data_ref,
            "created_at": r.created_at.isoformat(),
            "sharpe": (r.metrics or {}).get("sharpe"),
            "total_return_pct": (r.metrics or {}).get("total_return_pct"),
            "execution": r.execution(),
        }
        for r in runs
    ]
    if as_json:
        emit_json({"total": total, "items": rows})
        return
    console = Console(emoji=False)
    console.print(_runs_table(rows, total, console.width))


def _runs_table(rows: list[dict[str, Any]], total: int, width: int) -> Table:
    """The runs as a table that fits `width` columns (80 and up): short ids, the columns a reader scans, long cells
    cut with "…"; `runs show ID` and `--json` give everything (source, data, execution)."""
    table = Table(
        title=f"{len(rows)} of {total} runs (`tradeops runs show ID` for one)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=0,
        collapse_padding=True,
    )
    widths = {"id": SHORT_ID, "kind": 8, "status": 7, "strategy": 11, "created": 11, "sharpe": 6, "ret %": 6}
    params_width = max(8, width - sum(widths.values()) - len(widths))  # one space between columns
    for name in ("id", "kind", "status", "strategy", "params", "created", "sharpe", "ret %"):
        size = params_width if name == "params" else widths[name]
        justify: Literal["left", "right"] = "right" if name in ("sharpe", "ret %") else "left"
        table.add_column(name, no_wrap=True, width=size, overflow="ellipsis", justify=justify)
    for row in rows:
        params = " ".join(f"{k}={v}" for k, v in row["params"].items())
        table.add_row(
            row["id"][:SHORT_ID],
            *(escape(str(row[k])) for k in ("kind", "status", "strategy")),
            escape(params),
            row["created_at"][5:16].replace("T", " "),
            _cell(row["sharpe"], digits=3),
            _cell(row["total_return_pct"], digits=3),
        )
    return table


@app.command("show")
def show(run_id: Annotated[str, typer.Argument(help="run id")], as_json: AsJson = False) -> None:
    """One run: what ran, on what data, its status and metrics."""
    run = fetch_runs([run_id])[0]
    if as_json:
        fields = {k: v for k, v in run.__dict__.items() if k not in ("result",)}
        emit_json(fields | {"execution": run.execution()})
        return
    console = Console(highlight=False)
    console.print(f"run {run.id}: {run.kind} {run.status} ({run.source})", markup=False)
    console.print(f"{run.strategy} {run.params} on {run.data_ref} ({run.data_fingerprint})", markup=False)
    console.print(f"created {run.created_at:%Y-%m-%d %H:%M:%S}  engine {run.engine_version}", markup=False)
    console.print(f"execution: {run.execution()}", markup=False)
    if run.error:
        console.print(f"error: {run.error}", markup=False)
    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in (run.metrics or {}).items():
        table.add_row(escape(str(name)), _cell(value))
    console.print(table)


def equity_of(run: Run) -> Any:
    """The run's stored equity curve as a pandas Series, or None (sweeps, runs stored before curves were)."""
    import pandas as pd

    points = (run.result or {}).get("equity")
    if not points:
        return None
    return pd.Series(points["value"], index=pd.to_datetime(points["time"]), name=run.id)


@app.command("compare")
def compare(
    run_ids: Annotated[list[str], typer.Argument(help="two or more run ids")],
    report: Annotated[Path | None, typer.Option("--report", help="write metrics and overlaid equity as HTML")] = None,
    as_json: AsJson = False,
) -> None:
    """Metrics side by side; with --report, the equity curves overlaid too."""
    if len(run_ids) < 2:
        raise ConfigError("compare needs two or more run ids")
    runs = fetch_runs(run_ids)
    if report is not None:
        from tradeops.reports.html import write_html
        from tradeops.reports.pages import compare_page

        described = [
            {
                "label": r.id[:8],
                "strategy": r.strategy,
                "params": r.params,
                "data": r.data_ref,
                "execution": r.execution(),
                "metrics": r.metrics,
            }
            for r in runs
        ]
        curves = {r.id[:8]: curve for r in runs if (curve := equity_of(r)) is not None}
        write_html(report, compare_page(described, curves, list(COMPARED)))
        Console(stderr=True).print(f"report written to {report}", markup=False)
    if as_json:
        emit_json({r.id: r.metrics for r in runs})
        return
    table = Table(title="compared runs")
    table.add_column("metric")
    for r in runs:
        table.add_column(escape(f"{r.id[:8]} {r.strategy}"), justify="right")
    table.add_row("execution", *(escape(r.execution()) for r in runs))
    for name in COMPARED:
        table.add_row(name, *(_cell((r.metrics or {}).get(name)) for r in runs))
    Console().print(table)


@app.command("export")
def export(
    run_id: Annotated[str, typer.Argument(help="run id")],
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    trades: Annotated[bool, typer.Option("--trades", help="export the closed trades")] = False,
    equity: Annotated[bool, typer.Option("--equity", help="export the equity curve")] = False,
) -> None:
    """Write a run's trades or equity curve as CSV."""
    if trades == equity:
        raise ConfigError("say what to export: --trades or --equity (one of them)")
    run = fetch_runs([run_id])[0]
    if trades:
        rows = (run.result or {}).get("trades")
        if rows is None:
            raise ConfigError(f"run {run_id} has no trades ({run.kind}, {run.status})")
        columns = [
            "symbol",
            "entry_time",
            "entry_price",
            "exit_time",
            "exit_price",
            "size",
            "pnl",
            "return_pct",
            "fees",
        ]
    else:
        points = (run.result or {}).get("equity")
        if points is None:
            raise ConfigError(f"run {run_id} has no stored equity curve ({run.kind}, {run.status})")
        rows = [{"time": t, "equity": v} for t, v in zip(points["time"], points["value"], strict=True)]
        columns = ["time", "equity"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    Console(stderr=True).print(f"{len(rows)} rows written to {out}", markup=False)
