"""The typed stack configuration: validated whole before any resource is declared.

Everything non-secret lives under the `tradeops:settings` key of `infra/stacks/Pulumi.<stack>.yaml`;
secrets are separate keys set with `pulumi config set --secret` (see SECRET_KEYS). A typo fails
`pulumi preview` with the key path and the reason.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tradeops.data.fetch import DatasetSource
from tradeops.errors import ConfigError
from tradeops.gate.candidate import Candidate
from tradeops.strategies.base import format_validation
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
}
REQUIRED_SECRETS = ("apiToken", "databaseUrl")  # the stack cannot run without these
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
    """The three services of the stack."""

    backtester: ServiceConfig = ServiceConfig()
    trader: ServiceConfig = ServiceConfig()
    slackbot: ServiceConfig = ServiceConfig()

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
    slack_channel: str | None = Field(None, pattern=r"^#[a-z0-9_-]+$")
    slack_writers: tuple[Annotated[str, Field(pattern=r"^[UWS][A-Z0-9]{2,20}$")], ...] = Field(
        (), description="Slack user (U..., W...) and user group (S...) ids allowed to run write commands"
    )
    git_remote: str | None = Field(None, description="repository URL the slackbot proposes branches on")
    github_repo: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")

    @model_validator(mode="after")
    def _prod_gates_on_market_data(self) -> StackConfig:
        if self.environment == "prod" and not self.candidate.data.startswith("dataset:"):
            raise ValueError(
                f"candidate.data {self.candidate.data!r}: prod gates and trades on market data, "
                "so it must be dataset:NAME[@VERSION] (a bundled sample or a file is refused)"
            )
        return self


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
