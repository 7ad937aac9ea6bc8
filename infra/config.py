"""The typed stack configuration: validated whole before any resource is declared.

Everything non-secret lives under the `tradeops:settings` key of `infra/stacks/Pulumi.<stack>.yaml`;
secrets are separate keys set with `pulumi config set --secret` (see SECRET_KEYS). A typo fails
`pulumi preview` with the key path and the reason.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tradeops.bundles import BundleContent, DatasetRef
from tradeops.data.sources import DatasetSource
from tradeops.errors import ConfigError
from tradeops.gate.candidate import Candidate
from tradeops.strategies.base import format_validation
from tradeops.sweeps.config import SweepJobConfig
from tradeops.trader.risk import RiskLimits

# Pulumi config key (camelCase, as `pulumi config set --secret <key>`) -> Kubernetes Secret key.
SECRET_KEYS = {
    "apiToken": "api-token",
    "databaseUrl": "database-url",
    "slackToken": "slack-token",
    "slackSigningSecret": "slack-signing-secret",
    "brokerApiKey": "broker-api-key",
    "brokerApiSecret": "broker-api-secret",
    "githubToken": "github-token",
    "mcpTokens": "mcp-tokens",  # PRINCIPAL=TOKEN pairs of the MCP server
}
REQUIRED_SECRETS = ("apiToken", "databaseUrl")  # the stack cannot run without these
BUNDLE_ID = re.compile(r"^bundle-[0-9a-f]{24}$")
CRON = re.compile(r"^(\S+\s+){4}\S+$")
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


class StackConfigError(ValueError):
    """The stack configuration is invalid; the message names each key path."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Model):
    """Requests and limits of one container."""

    cpu_request: str = Field("100m", pattern=r"^\d+m?$")
    cpu_limit: str = Field("1", pattern=r"^\d+(\.\d+)?m?$")
    memory_request: str = Field("256Mi", pattern=r"^\d+(Mi|Gi)$")
    memory_limit: str = Field("1Gi", pattern=r"^\d+(Mi|Gi)$")


class ServiceConfig(_Model):
    """One long-running service."""

    replicas: int = Field(1, ge=0, le=20)
    resources: Resources = Resources()


class Services(_Model):
    """The services of the stack."""

    backtester: ServiceConfig = ServiceConfig()
    trader: ServiceConfig = ServiceConfig()
    slackbot: ServiceConfig = ServiceConfig()
    mcp: ServiceConfig = ServiceConfig()

    @field_validator("trader")
    @classmethod
    def _one_trader(cls, value: ServiceConfig) -> ServiceConfig:
        if value.replicas > 1:
            raise ValueError("the trader is the single writer of its session's ledger: replicas must be 0 or 1")
        return value


def check_cron(value: str) -> str:
    """Accept a standard 5-field cron expression."""
    fields = value.split()
    if not CRON.match(value) or not all(CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{value!r} is not a 5-field cron expression like '15 2 * * *'")
    return value


class Schedule(_Model):
    """A CronJob's timing."""

    schedule: str
    starting_deadline_seconds: int = Field(300, ge=10)
    active_deadline_seconds: int = Field(3600, ge=60)
    resources: Resources = Resources()

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)


class MarketDataJob(Schedule):
    """The market-data CronJob: `tradeops data sync` keeps these datasets fresh in the stack's object store."""

    datasets: tuple[DatasetSource, ...] = Field((), description="datasets to fetch; none: no CronJob")

    @field_validator("datasets")
    @classmethod
    def _unique(cls, value: tuple[DatasetSource, ...]) -> tuple[DatasetSource, ...]:
        names = [source.dataset for source in value]
        if len(names) != len(set(names)):
            raise ValueError(f"dataset names must be unique: {', '.join(names)}")
        return value


class Image(_Model):
    """Where the one image of the stack is pushed."""

    registry: str = Field(min_length=1, description="e.g. ghcr.io/acme")
    repository: str = "tradeops"
    push: bool = False


class Platform(_Model):
    """Helm releases of the platform pieces, with pinned chart versions."""

    postgresql_chart_version: str = Field("16.7.27", pattern=r"^\d+\.\d+\.\d+$")
    minio_chart_version: str = Field("5.4.0", pattern=r"^\d+\.\d+\.\d+$")
    monitoring_chart_version: str = Field("79.5.0", pattern=r"^\d+\.\d+\.\d+$")
    postgresql_storage: str = Field("8Gi", pattern=r"^\d+(Mi|Gi)$")
    object_storage: str = Field("20Gi", pattern=r"^\d+(Mi|Gi)$")
    bucket: str = Field("tradeops", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    cluster_owner: bool = Field(
        False,
        description="this stack installs the cluster-wide pieces (the monitoring stack with its CRDs, cluster roles "
        "and Grafana dashboard); exactly one stack per cluster sets it, the others read its CRDs",
    )


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Window(_Model):
    """A weekly time window in which promotions may run (e.g. outside market hours)."""

    days: tuple[Day, ...] = Field(DAYS, min_length=1, description="weekdays, e.g. [mon, tue, wed, thu, fri]")
    start: time = Field(description="local start time, e.g. '17:00'")
    end: time = Field(description="local end time, e.g. '23:00'; before start means the window spans midnight")
    timezone: str = Field("UTC", description="IANA zone the times are in, e.g. America/New_York")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone like 'America/New_York'") from None
        return value


class Freeze(_Model):
    """Named dates (UTC, inclusive) with no promotion at all."""

    start: date
    end: date
    reason: str = Field(min_length=1, description="what the freeze is for, e.g. 'year-end close'")

    @model_validator(mode="after")
    def _ordered(self) -> Freeze:
        if self.end < self.start:
            raise ValueError(f"freeze {self.reason!r} ends ({self.end}) before it starts ({self.start})")
        return self


class Promotion(_Model):
    """How a bundle gets into this stack: from which stage, after how much soak, with whose approval, when."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_stage: str = Field(alias="from", pattern=r"^(dev|staging|prod)$", description="the stage bundles come from")
    min_soak_hours: float = Field(24, ge=0, description="hours the bundle must have paper-traded in that stage")
    max_divergence_bps: float = Field(
        50, gt=0, description="largest gap between the paper equity and a backtest of the same bars, in basis points"
    )
    approvals: int = Field(1, ge=0, le=10, description="distinct people who must approve the bundle for this stage")
    windows: tuple[Window, ...] = Field((), description="when promotions may run; empty: any time outside freezes")
    freezes: tuple[Freeze, ...] = Field((), description="dates with no promotion")
    post_deploy_bars: int = Field(
        20,
        ge=1,
        description="a risk halt within this many bars after a promotion rolls back to the last verified bundle",
    )


class BundleInputs(_Model):
    """What the deploy tells the program about the bundle (`tradeops:bundle`): a new bundle's id is computed from
    these, the image digest and the stack's candidate and risk, and carried on the gate Job's pod template. A
    stored bundle's id comes as `tradeops:bundleId` instead and is carried as given (see `parse_bundle_id`)."""

    git_sha: str = Field(min_length=7)
    verdict_id: str = Field(min_length=1)
    dataset: dict[str, Any]
    image: str | None = Field(
        None, pattern=r"^\S+@sha256:[0-9a-f]{64}$", description="a promotion's image by digest: deployed, never rebuilt"
    )
    lock_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the image's lock file")


class BrokerConfig(_Model):
    """Where the trader's orders go: the paper broker, or a venue through ccxt (docs/trader.md: going live).

    The venue's API key and secret are the `brokerApiKey` / `brokerApiSecret` Pulumi secrets, which the
    stack's Kubernetes Secret carries; only prod may trade with real money (`sandbox: false`).
    """

    kind: Literal["paper", "ccxt"] = "paper"
    exchange: str = Field("binance", pattern=r"^[a-z0-9]+$", description="the ccxt exchange id")
    sandbox: bool = Field(True, description="the venue's testnet; false trades real money")
    symbols: dict[str, str] = Field(default_factory=dict, description="session symbol -> venue symbol (BTC/USDT)")
    order_type: Literal["market", "limit"] = "market"
    reconcile_every: int = Field(60, ge=1, le=100_000, description="bars between reconciliations with the venue")


class StackConfig(_Model):
    """The whole stack."""

    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    environment: str = Field(pattern=r"^(dev|staging|prod)$")
    image: Image
    services: Services = Services()
    candidate: Candidate
    risk: RiskLimits = RiskLimits()
    gate_timeout_seconds: int = Field(900, ge=60, le=7200)
    backup: Schedule = Schedule(schedule="15 2 * * *")
    cleanup: Schedule = Schedule(schedule="45 3 * * *")
    market_data: MarketDataJob = MarketDataJob(schedule="7 * * * *")
    platform: Platform = Platform()
    sweeps: SweepJobConfig = Field(SweepJobConfig(), description="shard pods of sharded sweeps (Indexed Jobs)")
    slack_channel: str | None = Field(None, pattern=r"^#[a-z0-9_-]+$")
    slack_writers: tuple[Annotated[str, Field(pattern=r"^[UWS][A-Z0-9]{2,20}$")], ...] = Field(
        (), description="Slack user (U..., W...) and user group (S...) ids allowed to run write commands"
    )
    mcp_writers: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")], ...] = Field(
        (), description="MCP principals (names in the mcpTokens secret) allowed to propose, halt and resume"
    )
    git_remote: str | None = Field(None, description="repository URL the slackbot and the MCP server propose on")
    github_repo: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")
    promotion: Promotion | None = Field(None, description="set on a stage bundles are promoted into (prod)")
    broker: BrokerConfig = Field(BrokerConfig(), description="the trader's broker: paper, or a venue via ccxt")

    @model_validator(mode="after")
    def _prod_gates_on_market_data(self) -> StackConfig:
        if self.environment == "prod" and not self.candidate.data.startswith("dataset:"):
            raise ValueError(
                f"candidate.data {self.candidate.data!r}: prod gates and trades on market data, "
                "so it must be dataset:NAME[@VERSION] (a bundled sample or a file is refused)"
            )
        if self.broker.kind == "ccxt" and not self.broker.sandbox and self.environment != "prod":
            raise ValueError("broker.sandbox: false trades real money, which only prod may do")
        return self


def broker_secrets(config: StackConfig) -> tuple[str, ...]:
    """The Pulumi secrets the stack cannot run without because of its broker."""
    return ("brokerApiKey", "brokerApiSecret") if config.broker.kind == "ccxt" else ()


def bundle_content(config: StackConfig, image: str, inputs: BundleInputs) -> BundleContent:
    """The bundle a stack config, an image digest and the deploy's inputs make (the program and the deploy agree)."""
    return BundleContent(
        image=inputs.image or image,
        git_sha=inputs.git_sha,
        candidate=config.candidate.model_dump(mode="json"),
        risk=config.risk.model_dump(mode="json"),
        dataset=DatasetRef.model_validate(inputs.dataset),
        verdict_id=inputs.verdict_id,
        lock_sha256=inputs.lock_sha256,
    )


def parse_bundle_inputs(raw: Any) -> BundleInputs | None:
    """Validate `tradeops:bundle` (absent on a plain `pulumi preview`: no bundle id then)."""
    if raw is None:
        return None
    try:
        return BundleInputs.model_validate(raw)
    except ValidationError as error:
        raise StackConfigError(f"tradeops:bundle is invalid: {format_validation(error)}") from None


def parse_bundle_id(raw: Any) -> str | None:
    """Validate `tradeops:bundleId`: the id of a stored bundle the deploy checked before `up` (a promotion or a
    rollback), carried as is: never recomputed from this program's models, which may be newer than the bundle.
    A separate key, so a program older than it ignores it (and computes the id its own models give)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not BUNDLE_ID.match(raw):
        raise StackConfigError(f"tradeops:bundleId {raw!r} is not a bundle id like bundle-<24 hex digits>")
    return raw


def parse_stack_config(raw: Any, version: str) -> StackConfig:
    """Validate the raw `tradeops:settings` object; StackConfigError names every bad key path."""
    if not isinstance(raw, dict):
        raise StackConfigError("tradeops:settings must be a mapping (see infra/stacks/Pulumi.dev.yaml)")
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        raise StackConfigError(
            f"tradeops:settings is invalid (version {version}): {format_validation(error)}"
        ) from None
    except ConfigError as error:  # the candidate's strategy parameters
        raise StackConfigError(f"tradeops:settings.candidate is invalid: {error}") from None
