"""The structured results of the MCP tools (their output schemas); runs reuse the backtester API's models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tradeops.backup.repository import BackupView
from tradeops.releases import Release
from tradeops.service.backtester.schemas import RunSummary, StrategyInfo


class StrategyList(BaseModel):
    """Every strategy with the JSON Schema of its parameters."""

    strategies: list[StrategyInfo]


class Comparison(BaseModel):
    """Runs side by side: each metric per run, and which run is best at it."""

    runs: list[RunSummary]
    metrics: dict[str, dict[str, float | None]] = Field(description="metric -> run id -> value")
    best: dict[str, str] = Field(description="metric -> id of the best run (lowest drawdown, highest otherwise)")


class ReleaseList(BaseModel):
    """A stack's releases, newest first."""

    stack: str
    releases: list[Release]


class BackupList(BaseModel):
    """The newest backups and the recovery point and time they give."""

    backups: list[BackupView]
    rpo_seconds: float | None
    rto_seconds: float | None


class Dataset(BaseModel):
    """A dataset name and the versions the object store holds for it."""

    name: str
    versions: list[str]
    objects: int


class DatasetList(BaseModel):
    """What the object store holds under `datasets/`."""

    datasets: list[Dataset]
    note: str


class PullRequestRef(BaseModel):
    number: int
    url: str
    head: str
    base: str


class ProposalResult(BaseModel):
    """A proposal: the change, the gate verdict with every check, and the branch and PR when one was opened."""

    stack: str
    strategy: str
    before: dict[str, Any]
    after: dict[str, Any]
    verdict: dict[str, Any]
    branch: str | None
    commit: str | None
    pull_request: PullRequestRef | None
