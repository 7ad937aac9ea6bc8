"""`tradeops sweep submit|status|collect|shard`: a sharded sweep as a Kubernetes Indexed Job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tradeops.cli.options import (
    GIVEN_NONE,
    AsJson,
    Data,
    ExecutionOptions,
    MaxGap,
    Params,
    Strategy,
    emit_json,
    execution_options,
    parse_grid,
    parse_params,
)
from tradeops.errors import ConfigError, TradeopsError

app = typer.Typer(help="Sharded sweeps on the cluster: one Indexed Job pod per shard.", no_args_is_help=True)
KubeHost = Annotated[
    str | None, typer.Option("--kubernetes-host", help="API server URL (default: in-cluster, else the kubeconfig)")
]
stderr = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)


def _stores() -> tuple[Any, Any]:
    from tradeops.settings import load_settings
    from tradeops.store import RunStore, open_object_store

    settings = load_settings()
    return RunStore.from_settings(settings), open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)


@app.command("submit")
@execution_options()
def submit(
    stack: Annotated[str, typer.Option("--stack", help="the stack whose namespace, image and sweeps settings to use")],
    shards: Annotated[int, typer.Option("--shards", min=1, help="how many shards (pods)")],
    strategy: Strategy,
    data: Data,
    grid: Annotated[list[str], typer.Option("--grid", "-g", help="NAME=START:STOP:STEP (stop included) or NAME=V1,V2")],
    param: Params = None,
    sort_by: Annotated[str, typer.Option("--sort-by", help="metric that ranks the points")] = "sharpe",
    train_bars: Annotated[
        int | None, typer.Option("--train-bars", help="a walk-forward: bars per train window")
    ] = None,
    test_bars: Annotated[int | None, typer.Option("--test-bars", help="a walk-forward: bars per test window")] = None,
    anchored: Annotated[bool, typer.Option("--anchored", help="walk-forward train windows grow from bar 0")] = False,
    kubernetes_host: KubeHost = None,
    as_json: AsJson = False,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
) -> None:
    """Create the sweep as a run and submit its Indexed Job; print the sweep id."""
    from tradeops.data.pinning import pin
    from tradeops.kube import batch_api
    from tradeops.sweeps.cluster import stack_target
    from tradeops.sweeps.cluster import submit as submit_job
    from tradeops.sweeps.spec import SweepSpec
    from tradeops.vcs.stackfile import stack_file

    if (train_bars is None) != (test_bars is None):
        raise ConfigError("a walk-forward needs both --train-bars and --test-bars")
    settings = execution.settings()
    spec = SweepSpec(
        kind="sweep" if train_bars is None else "walkforward",
        strategy=strategy,
        data=data,
        max_gap=max_gap,
        params=parse_params(param),
        grid=parse_grid(grid),
        settings=settings.model_dump(mode="json"),
        train_bars=train_bars,
        test_bars=test_bars,
        anchored=anchored,
        sort_by=sort_by,
    )
    path = Path(stack_file(stack))
    if not path.is_file():
        raise ConfigError(f"{path}: no such stack file; run from the repository root")
    store, objects = _stores()
    try:
        spec = spec.model_copy(update={"data": pin(data, objects).reference})  # every shard reads this version
        target = stack_target(objects, stack, path.read_text(), str(path))
        run = store.create(
            kind="sweep",
            strategy=strategy,
            params=spec.params,
            request=spec.model_dump(mode="json") | {"shards": shards, "stack": stack},
            data_ref=spec.data,
            source="cli",
        )
        store.mark_running(run.id)
        try:
            document = submit_job(objects, batch_api(kubernetes_host), run.id, spec, shards, target)
        except TradeopsError as error:
            store.fail(run.id, str(error))
            raise
    finally:
        store.close()
    if as_json:
        emit_json({"id": run.id, "job": document.job, "namespace": document.namespace, "shards": shards})
        return
    typer.echo(run.id)
    stderr.print(f"Indexed Job {document.job} in {document.namespace}: {shards} shard(s) of sweep {run.id}")


@app.command("shard")
def shard(sweep_id: Annotated[str, typer.Argument(help="the sweep id")]) -> None:
    """Run this pod's shard (JOB_COMPLETION_INDEX) of a submitted sweep and store its part."""
    from tradeops.sweeps.cluster import run_shard

    store, objects = _stores()
    store.close()
    stderr.print(f"stored {run_shard(objects, sweep_id)}")


@app.command("status")
def status(
    sweep_id: Annotated[str, typer.Argument(help="the sweep id")],
    kubernetes_host: KubeHost = None,
    as_json: AsJson = False,
) -> None:
    """Show the sweep's shards: done, failed, running."""
    from tradeops.kube import batch_api
    from tradeops.sweeps.cluster import shard_status

    store, objects = _stores()
    store.close()
    report = shard_status(objects, batch_api(kubernetes_host), sweep_id)
    if as_json:
        emit_json(report)
        return
    view = Table(title=f"sweep {sweep_id}: Job {report['job']} ({report['state']})")
    for column in ("shards", "done", "failed", "running", "missing", "parts stored"):
        view.add_column(column, justify="right")
    counts = [len(report[k]) for k in ("done", "failed", "running", "missing")]
    view.add_row(str(report["shards"]), *map(str, counts), str(report["parts_stored"]))
    Console().print(view)
    if report["failed"]:
        stderr.print(f"failed shard(s): {', '.join(map(str, report['failed']))}")


@app.command("collect")
def collect(
    sweep_id: Annotated[str, typer.Argument(help="the sweep id")],
    top: Annotated[int, typer.Option("--top", min=1, help="how many best points the run keeps")] = 5,
    as_json: AsJson = False,
) -> None:
    """Merge the stored parts and store the result as the sweep's run."""
    from tradeops.engine.result import ENGINE_VERSION
    from tradeops.sweeps.cluster import collect as collect_parts

    store, objects = _stores()
    try:
        run = store.get(sweep_id)
        if run is None or run.kind != "sweep":
            raise ConfigError(f"no sweep run {sweep_id}")
        result, table = collect_parts(objects, sweep_id, top)
        objects.put(f"runs/{sweep_id}/table.csv", table, "text/csv")
        best = result.get("best") or [None]
        store.finish(
            sweep_id,
            result=result,
            metrics=best[0] if "best" in result else result["oos"]["metrics"],
            verdict=None,
            data_fingerprint=result["data"]["fingerprint"],
            engine_version=ENGINE_VERSION,
            report_key=None,
        )
    finally:
        store.close()
    if as_json:
        emit_json(result)
        return
    rows = result["merge"]["rows"]
    stderr.print(f"sweep {sweep_id}: merged {result['merge']['shards']} part(s), {rows} row(s); stored as its run")
