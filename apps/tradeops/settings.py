"""Process settings from `TRADEOPS_*` environment variables, validated once in `main()`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradeops.data.fetch import DatasetSource
from tradeops.errors import ConfigError
from tradeops.strategies.base import format_validation

PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "token", "xxx", "test"}


class AppSettings(BaseSettings):
    """Everything a tradeops process reads from its environment; embedded defaults for one laptop."""

    model_config = SettingsConfigDict(env_prefix="TRADEOPS_", extra="ignore", frozen=True)

    environment: Literal["local", "dev", "staging", "prod"] = Field("local", description="where this runs")
    data_dir: Path = Field(
        Path(".tradeops"), description="local data folder (SQLite file, object folder, market files)"
    )
    database_url: str | None = Field(
        None,
        repr=False,
        description="SQLAlchemy URL; default a SQLite file in data_dir (may hold a password: never shown)",
    )
    object_store: str | None = Field(None, description="file:///path or s3://bucket/prefix; default data_dir/objects")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint, e.g. http://minio:9000")
    api_token: SecretStr | None = Field(None, description="bearer token for mutating API calls")
    slack_token: SecretStr | None = Field(None, description="Slack bot token; console notifications when unset")
    slack_channel: str | None = Field(None, description="Slack channel for notifications, e.g. #trading")
    slack_base_url: str | None = Field(None, description="Slack Web API base URL (only to point at a fake)")
    slack_signing_secret: SecretStr | None = Field(None, description="verifies inbound Slack requests")
    slack_writers: str = Field(
        "",
        pattern=r"^([UWS][A-Z0-9]{2,20}(,[UWS][A-Z0-9]{2,20})*)?$",
        description="comma-separated Slack user ids (U..., W...) and user group ids (S...) allowed to run "
        "write commands (propose, halt, reduce-only, resume); empty: nobody",
    )
    backtester_url: str = Field("http://127.0.0.1:8000", description="the backtester API the Slack bot calls")
    backtester_public_url: str | None = Field(
        None, description="base URL of the backtester as people reach it (report links); default backtester_url"
    )
    repo_dir: Path | None = Field(
        None, description="the git clone the Slack bot reads stack configs from and proposes in; default data_dir/repo"
    )
    git_remote: str | None = Field(
        None, description="URL the Slack bot clones from and pushes proposal branches to (else repo_dir's origin)"
    )
    git_base_branch: str = Field("main", pattern=r"^[A-Za-z0-9._/-]+$", description="branch proposals start from")
    github_repo: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name pull requests are opened on"
    )
    github_token: SecretStr | None = Field(
        None, description="GitHub token: PR comments (pipelines), proposal branches and pull requests (Slack bot)"
    )
    github_api_url: str = Field("https://api.github.com", description="GitHub REST API base URL")
    workers: int = Field(2, ge=1, le=32, description="backtest worker processes")
    queue_limit: int = Field(64, ge=1, le=10_000, description="queued jobs before the API answers 429")
    job_timeout_seconds: float = Field(600, gt=0, description="a job running longer is killed and failed")
    git_sha: str = Field("unknown", description="the commit this build came from (the release version)")
    namespace: str | None = Field(None, description="the Kubernetes namespace (cleanup deletes finished Jobs there)")
    trader_session: str = Field("local", description="the trading session the trader runs and the kill switch acts on")
    trader_candidate: Path | None = Field(
        None, description="candidate YAML the trader trades (strategy, params, data, execution); the gate judged it"
    )
    trader_feed_file: Path | None = Field(
        None, description="live bars: a CSV/Parquet file polled for new bars; unset = replay the candidate's data"
    )
    trader_poll_seconds: float = Field(60.0, gt=0, description="seconds between polls of the live feed")
    trader_replay_speed: float = Field(1.0, ge=0, description="replayed bars per second (0 = as fast as possible)")
    trader_max_position_notional: float | None = Field(None, gt=0, description="risk: largest notional per symbol")
    trader_max_daily_loss_pct: float | None = Field(None, gt=0, le=100, description="risk: largest daily loss, %")
    trader_max_drawdown_pct: float | None = Field(None, gt=0, le=100, description="risk: largest drawdown, %")
    exchange_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+$",
        description="base URL replacing the venue's API host in `data fetch` (a proxy, or a local fake exchange)",
    )
    fetch_attempts: int = Field(6, ge=1, le=20, description="`data fetch`: tries per request on network errors/429")
    fetch_backoff_seconds: float = Field(
        1.0, ge=0, le=60, description="`data fetch`: first wait before a retry; doubles each time, capped at 30 s"
    )
    market_datasets: list[DatasetSource] = Field(
        default_factory=list,
        description="JSON list of datasets `data sync` keeps fresh: "
        '[{"dataset": "binance-btcusdt-1h", "exchange": "binance", "symbols": ["BTC/USDT"], '
        '"timeframe": "1h", "since": "2024-01-01"}]',
    )
    feed_stall_bars: int = Field(
        3, ge=1, le=1000, description="the trader's feed is stalled after this many timeframes without a new bar"
    )
    candidate_hash: str | None = Field(
        None, description="hash of the deployed candidate: cleanup never removes its runs"
    )

    @model_validator(mode="after")
    def _secrets_outside_local(self) -> AppSettings:
        if self.environment != "local":
            token = self.api_token.get_secret_value() if self.api_token else ""
            if len(token) < 16 or token.lower() in PLACEHOLDERS:
                raise ValueError("api_token must be a real secret of 16+ characters outside local")
        if bool(self.slack_token) != bool(self.slack_channel):
            raise ValueError("set slack_token and slack_channel together")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'tradeops.db').resolve()}"

    @property
    def resolved_object_store(self) -> str:
        return self.object_store or (self.data_dir / "objects").resolve().as_uri()

    @property
    def resolved_repo_dir(self) -> Path:
        return (self.repo_dir or self.data_dir / "repo").resolve()

    @property
    def market_dir(self) -> Path:
        """The only folder whose files the API may read as market data."""
        return (self.data_dir / "market").resolve()


def load_settings(**overrides: object) -> AppSettings:
    """Build settings from the environment, secret files and overrides; a ConfigError names each bad one.

    In the cluster, secrets arrive as files named like their variables (e.g. TRADEOPS_API_TOKEN) in
    the folder `TRADEOPS_SECRETS_DIR` names, mounted from the stack's Secret; environment values win.
    """
    secrets_dir = os.environ.get("TRADEOPS_SECRETS_DIR")
    if secrets_dir and Path(secrets_dir).is_dir():
        overrides = {"_secrets_dir": secrets_dir, **overrides}
    try:
        return AppSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(f"invalid TRADEOPS_* settings: {format_validation(error)}") from error
