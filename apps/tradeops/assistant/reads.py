"""The read tools: strategies, backtests, sweeps, the gate, runs, releases, the trader, backups, datasets.

Backtests, sweeps and gate verdicts run on the backtester API (its caps and queue apply); the rest
reads the same database and object store as the API and the Slack app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from tradeops.assistant.guard import Guarded, tool_errors
from tradeops.assistant.results import (
    BackupList,
    Comparison,
    Dataset,
    DatasetList,
    ReleaseList,
    StrategyList,
)
from tradeops.backup import BackupError, BackupRepository
from tradeops.engine.metrics import METRIC_NAMES
from tradeops.engine.settings import ExecutionSettings
from tradeops.errors import ConfigError
from tradeops.gate.thresholds import Thresholds
from tradeops.service.backtester.routes import summary, view
from tradeops.service.backtester.schemas import (
    BacktestRequest,
    GateRequest,
    RunView,
    StrategyInfo,
    SweepRequest,
)
from tradeops.strategies import STRATEGIES
from tradeops.strategies.base import format_validation
from tradeops.trader.control import TraderStatus
from tradeops.vcs.stackfile import stack_file

Strategy = Annotated[str, Field(description="strategy name (see list_strategies)", examples=["sma_cross"])]
Params = Annotated[dict[str, Any], Field(description="strategy parameters", examples=[{"fast": 10, "slow": 30}])]
Data = Annotated[
    str,
    Field(
        min_length=1,
        max_length=512,
        description="sample:NAME, dataset:NAME[@VERSION] (NAME alone: pinned to its latest version when submitted, "
        "and the run records that version), or a file in the market data folder",
    ),
]
RunId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="a run id")]
LOWER_IS_BETTER = {"max_drawdown_pct"}


def validated(model: Any, **fields: Any) -> Any:
    """Build an API request model; a ConfigError with every bad field when the arguments do not fit it."""
    from pydantic import ValidationError

    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        raise ConfigError(f"invalid arguments: {format_validation(error)}") from None


def candidate_tool(name: str, kind: str, model: type[BaseModel], doc: str) -> Callable[..., Awaitable[RunView]]:
    """A tool taking one candidate (strategy, params, data, execution, thresholds) to the backtester as `kind`."""

    async def tool(
        self: ReadTools,
        strategy: Strategy,
        ctx: Context,
        params: Params | None = None,
        data: Data = "sample:GOOG",
        execution: ExecutionSettings | None = None,
        thresholds: Thresholds | None = None,
    ) -> RunView:
        body = validated(model, strategy=strategy, params=params, data=data, execution=execution, thresholds=thresholds)
        self.caller(ctx)
        return await self._run(ctx, kind, body)

    tool.__name__ = name  # the MCP tool name
    tool.__doc__ = doc
    return tool_errors(tool)


class ReadTools(Guarded):
    """Tools anyone with a token may call."""

    @tool_errors
    async def list_strategies(self, ctx: Context) -> StrategyList:
        """List every strategy with the JSON Schema of its parameters."""
        self.caller(ctx)
        return StrategyList(
            strategies=[
                StrategyInfo(name=s.name, description=s.description, params_schema=s.Params.model_json_schema())
                for s in STRATEGIES.values()
            ]
        )

    async def _run(self, ctx: Context, kind: str, body: Any) -> RunView:
        async def progress(done: float, total: float | None, message: str) -> None:
            await ctx.report_progress(done, total, message)

        return RunView.model_validate(await self.desk.backtester.run(kind, body, progress))

    @tool_errors
    async def run_sweep(
        self,
        strategy: Strategy,
        grid: Annotated[
            dict[str, list[float | int]],
            Field(description="values per parameter (at most 100,000 points)", examples=[{"fast": [5, 10]}]),
        ],
        ctx: Context,
        params: Params | None = None,
        data: Data = "sample:GOOG",
        execution: ExecutionSettings | None = None,
        sort_by: Annotated[str, Field(description=f"one of {', '.join(METRIC_NAMES)}")] = "sharpe",
        top: Annotated[int, Field(ge=1, le=100)] = 5,
    ) -> RunView:
        """Run a parameter grid on the backtester (the API's caps apply); progress while it runs, cancel stops it."""
        body = validated(
            SweepRequest,
            strategy=strategy,
            grid=grid,
            params=params,
            data=data,
            execution=execution,
            sort_by=sort_by,
            top=top,
        )
        self.caller(ctx)
        return await self._run(ctx, "sweep", body)

    run_backtest = candidate_tool(
        "run_backtest",
        "backtest",
        BacktestRequest,
        "Run one backtest on the backtester; `result` is `tradeops backtest run --json`'s object plus `equity`.",
    )
    gate = candidate_tool(
        "gate",
        "gate",
        GateRequest,
        "Judge a candidate with the backtest gate; `verdict` holds passed, exit_code and every check.",
    )

    @tool_errors
    async def get_run(self, run_id: RunId, ctx: Context) -> RunView:
        """Read one stored run (backtest, sweep or gate) with its full result."""
        self.caller(ctx)
        run = await anyio.to_thread.run_sync(self.desk.store.get, run_id)
        if run is None:
            raise ConfigError(f"no run {run_id}")
        return view(run, "/v1/" + {"backtest": "backtests", "sweep": "sweeps"}.get(run.kind, run.kind))

    @tool_errors
    async def compare_runs(
        self, run_ids: Annotated[list[RunId], Field(min_length=2, max_length=10)], ctx: Context
    ) -> Comparison:
        """Compare 2 to 10 stored runs metric by metric, and name the best run for each metric."""
        self.caller(ctx)
        runs = []
        for run_id in dict.fromkeys(run_ids):
            run = await anyio.to_thread.run_sync(self.desk.store.get, run_id)
            if run is None:
                raise ConfigError(f"no run {run_id}")
            runs.append(run)
        metrics: dict[str, dict[str, float | None]] = {}
        for name in METRIC_NAMES:
            metrics[name] = {r.id: (r.metrics or {}).get(name) for r in runs}
        best = {}
        for name, values in metrics.items():
            known = {k: v for k, v in values.items() if isinstance(v, int | float)}
            if known:
                pick = min if name in LOWER_IS_BETTER else max
                best[name] = pick(known, key=lambda k: known[k])
        return Comparison(runs=[summary(r, "/v1/runs") for r in runs], metrics=metrics, best=best)

    @tool_errors
    async def list_releases(
        self,
        ctx: Context,
        stack: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")] | None = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> ReleaseList:
        """The stack's releases (deploys and rollbacks), newest first, with the gate verdict each rests on."""
        self.caller(ctx)
        name = stack or self.desk.default_stack
        stack_file(name)
        history = await anyio.to_thread.run_sync(self.desk.releases.history, name)
        return ReleaseList(stack=name, releases=history[:limit])

    @tool_errors
    async def trader_status(
        self,
        ctx: Context,
        session: Annotated[str, Field(min_length=1, max_length=128)] | None = None,
    ) -> TraderStatus:
        """The trading session's kill-switch state, equity, drawdown, positions and orders (default: the active one)."""
        self.caller(ctx)
        status = await anyio.to_thread.run_sync(self.desk.control.status, session)
        return status

    @tool_errors
    async def list_backups(self, ctx: Context, limit: Annotated[int, Field(ge=1, le=100)] = 10) -> BackupList:
        """The newest database backups (verified or not) with the RPO and RTO they give."""
        self.caller(ctx)

        def read() -> BackupList:
            try:
                repository = BackupRepository(self.desk.settings.resolved_database_url, self.desk.objects)
                views, recovery = repository.list_backups(), repository.recovery()
            except BackupError as error:
                raise ConfigError(f"backups cannot be listed: {error}") from None
            return BackupList(backups=views[:limit], **recovery)

        return await anyio.to_thread.run_sync(read)

    @tool_errors
    async def list_datasets(self, ctx: Context) -> DatasetList:
        """The market datasets the object store holds under `datasets/NAME/VERSION/...`."""
        self.caller(ctx)
        keys = await anyio.to_thread.run_sync(self.desk.objects.keys, "datasets/")
        found: dict[str, list[str]] = {}
        for key in keys:
            parts = key.split("/")
            if len(parts) >= 3:
                found.setdefault(parts[1], []).append(parts[2] if len(parts) > 3 else "")
        datasets = [
            Dataset(name=name, versions=sorted({v for v in versions if v}), objects=len(versions))
            for name, versions in sorted(found.items())
        ]
        note = (
            "listed from the object store's datasets/ prefix; samples (sample:GOOG, ...) are always available"
            if datasets
            else "no datasets in the object store yet; backtests can use sample:NAME"
        )
        return DatasetList(datasets=datasets, note=note)
