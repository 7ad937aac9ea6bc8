"""Request and response bodies of the backtester API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tradeops.data.window import Window
from tradeops.engine.limits import MAX_GRID_POINTS
from tradeops.engine.metrics import METRIC_NAMES
from tradeops.engine.settings import ExecutionSettings
from tradeops.errors import ConfigError
from tradeops.gate.thresholds import Thresholds
from tradeops.service.bodies import RequestBody
from tradeops.strategies import STRATEGIES
from tradeops.strategies.base import validate_params


class _Request(RequestBody):
    strategy: str = Field(description="strategy name", examples=["sma_cross"])
    params: dict[str, Any] = Field(default_factory=dict, description="strategy parameters", examples=[{"fast": 10}])
    data: str = Field(
        "sample:GOOG",
        min_length=1,
        max_length=512,
        pattern=r"^[^\x00]+$",
        description="sample:NAME, or a file in the market data folder",
    )
    execution: ExecutionSettings = ExecutionSettings()
    window: Window | None = Field(None, description="only the bars from `start` to `end` (either may be left out)")

    @model_validator(mode="after")
    def _known_strategy(self) -> _Request:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; strategies: {', '.join(STRATEGIES)}")
        return self


def _check_params(strategy: str, params: dict[str, Any]) -> None:
    try:
        validate_params(STRATEGIES[strategy], params)
    except ConfigError as error:
        raise ValueError(f"params: {error}") from None


class BacktestRequest(_Request):
    """One backtest; with `thresholds`, the gate's checks run too."""

    thresholds: Thresholds | None = None

    @model_validator(mode="after")
    def _valid_params(self) -> BacktestRequest:
        _check_params(self.strategy, self.params)
        return self


class SweepRequest(_Request):
    """A grid: every combination of `grid` values over the fixed `params`."""

    grid: dict[str, list[float | int]] = Field(
        min_length=1, description="values per parameter", examples=[{"fast": [5, 10], "slow": [20, 50]}]
    )
    sort_by: Literal[METRIC_NAMES] = "sharpe"  # type: ignore[valid-type]
    top: int = Field(5, ge=1, le=100)
    shards: int | None = Field(
        None, ge=1, le=10_000, description="run as a Kubernetes Indexed Job of this many shard pods (in the cluster)"
    )

    @model_validator(mode="after")
    def _grid_size(self) -> SweepRequest:
        known = set(STRATEGIES[self.strategy].Params.model_fields)
        unknown = (set(self.grid) | set(self.params)) - known
        if unknown:
            raise ValueError(f"grid: {self.strategy} has no parameter(s) {', '.join(sorted(unknown))}")
        size = 1
        for name, values in self.grid.items():
            if not values:
                raise ValueError(f"grid.{name} has no values")
            size *= len(values)
        if size > MAX_GRID_POINTS:
            raise ValueError(f"grid has {size} points; at most {MAX_GRID_POINTS}")
        return self


class GateRequest(_Request):
    """A candidate for the gate (the same object as a candidate file)."""

    thresholds: Thresholds = Thresholds()

    @model_validator(mode="after")
    def _valid_params(self) -> GateRequest:
        _check_params(self.strategy, self.params)
        return self


class RunSummary(BaseModel):
    """A run as lists show it: everything but the full result."""

    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    strategy: str
    params: dict[str, Any]
    data: str
    data_fingerprint: str | None
    engine_version: str | None
    metrics: dict[str, Any] | None
    verdict: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    report_url: str | None


class RunView(RunSummary):
    """One run; `result` is `backtest run --json`'s object once done."""

    result: dict[str, Any] | None


class Accepted(BaseModel):
    """A queued run and where to poll it."""

    id: str
    status: str
    url: str


class RunPage(BaseModel):
    """One page of runs, newest first."""

    items: list[RunSummary]
    total: int
    limit: int
    offset: int


class StrategyInfo(BaseModel):
    """A strategy and the JSON Schema of its parameters."""

    name: str
    description: str
    params_schema: dict[str, Any]
