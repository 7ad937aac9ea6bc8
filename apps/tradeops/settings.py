"""Process settings from `TRADEOPS_*` environment variables, validated once in `main()`.

A nested model named in FLAT is read from one variable per field rather than from one JSON value:
`trader_risk` (the trader's `RiskLimits`, declared once in tradeops.trader.risk) from
TRADEOPS_TRADER_MAX_DRAWDOWN_PCT and its siblings, the names the stack renders (infra/stack.py).
A field added to the model is a variable, a `.env.example` entry and a `trader replay` option at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_serializer, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tradeops.data.sources import DatasetSource
from tradeops.engine.limits import Limits
from tradeops.errors import ConfigError, format_validation
from tradeops.secrecy import PLACEHOLDERS, weak_database_url, weak_principal_tokens, weak_secret
from tradeops.sweeps.config import SweepJobConfig
from tradeops.trader.risk import RiskLimits

STRICT_ENVIRONMENTS = ("staging", "prod")  # weak secrets and missing URLs refused; local and dev keep defaults
PREFIX = "TRADEOPS_"
FLAT = {"trader_risk": "trader_"}  # nested setting -> the prefix of its fields' variables


def flat_variable(setting: str, field: str) -> str:
    """The variable of one field of a FLAT nested setting: ("trader_risk", "max_drawdown_pct") ->
    TRADEOPS_TRADER_MAX_DRAWDOWN_PCT."""
    return f"{PREFIX}{FLAT[setting]}{field}".upper()


class _FlatSource(PydanticBaseSettingsSource):
    """Each FLAT nested setting from its fields' variables; a variable not set leaves its field to the model."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every variable at once

    def __call__(self) -> dict[str, Any]:
        environ = {name.upper(): value for name, value in os.environ.items()}
        found: dict[str, Any] = {}
        for setting in FLAT:
            names = _nested_model(self.settings_cls, setting).model_fields
            given = {name: environ[variable] for name in names if (variable := flat_variable(setting, name)) in environ}
            if given:
                found[setting] = given
        return found


def _nested_model(settings: type[BaseSettings], setting: str) -> type[BaseModel]:
    model = settings.model_fields[setting].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel), f"{setting} is not a nested model"
    return model


class AppSettings(BaseSettings):
    """Everything a tradeops process reads from its environment; embedded defaults for one laptop."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then the FLAT variables, then the usual sources (the first to give a value wins)."""
        return init_settings, _FlatSource(settings_cls), env_settings, dotenv_settings, file_secret_settings

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
    promotion_ledger_url: str | None = Field(
        None,
        repr=False,
        description="SQLAlchemy URL of the source stage's trader ledger (staging's database) that `tradeops promote` "
        "reads the paper soak from; default database_url (may hold a password: never shown)",
    )
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint, e.g. http://minio:9000")
    api_token: SecretStr | None = Field(None, description="bearer token for mutating API calls")
    api_token_name: str = Field(
        "api-client",
        pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$",
        description="who holds the API token: the audit log records its calls as token:<name>",
    )
    slack_token: SecretStr | None = Field(None, description="Slack bot token; console notifications when unset")
    slack_channel: str | None = Field(None, description="Slack channel for notifications, e.g. #trading")
    slack_base_url: str | None = Field(None, description="Slack Web API base URL (only to point at a fake)")
    slack_signing_secret: SecretStr | None = Field(None, description="verifies inbound Slack requests")
    slack_writers: str = Field(
        "",
        pattern=r"^([UWS][A-Z0-9]{2,20}(,[UWS][A-Z0-9]{2,20})*)?$",
        description="comma-separated Slack user ids (U..., W...) and user group ids (S...) allowed to run "
        "write commands (propose, halt, reduce-only, resume, approve); empty: nobody",
    )
    mcp_tokens: SecretStr | None = Field(
        None,
        description="MCP server: comma-separated PRINCIPAL=TOKEN pairs; a request's bearer token names its principal "
        "(unset: open to the principal mcp_principal, local only)",
    )
    mcp_writers: str = Field(
        "",
        pattern=r"^([A-Za-z0-9._@-]{1,64}(,[A-Za-z0-9._@-]{1,64})*)?$",
        description="comma-separated MCP principals allowed to propose, halt, reduce-only and resume; empty: nobody",
    )
    mcp_principal: str = Field(
        "local",
        pattern=r"^[A-Za-z0-9._@-]{1,64}$",
        description="the principal of `tradeops mcp stdio` (and of HTTP requests when mcp_tokens is unset)",
    )
    mcp_files_dir: Path = Field(
        Path("."),
        description="the checkout the MCP server's resources (map, diagrams, docs, stack configs) are read from "
        "when no git remote is set; with TRADEOPS_GIT_REMOTE they come from the base branch",
    )
    mcp_calls_per_minute: int = Field(60, ge=1, le=10_000, description="MCP tool calls allowed per principal a minute")
    backtester_url: str = Field(
        "http://127.0.0.1:8000",
        description="the backtester API the Slack bot and the MCP server call; the MCP server without it runs "
        "backtests in its own process (the same API, caps and workers)",
    )
    trader_url: str | None = Field(
        None, description="the trader service the Slack bot and MCP server ask to cancel venue orders on a halt"
    )
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
    workers: int = Field(2, ge=1, le=32, description="warm backtest worker processes (each runs one job at a time)")
    worker_max_jobs: int = Field(
        500, ge=1, le=1_000_000, description="a worker is replaced by a fresh one after this many jobs"
    )
    worker_max_memory_mib: int | None = Field(
        None, ge=64, description="a worker whose peak memory passed this (MiB) is replaced after its job"
    )
    job_lease_seconds: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="a running run's claim, renewed every third of it; one not renewed returns to the queue",
    )
    memory_limit_mib: int = Field(
        4096,
        ge=256,
        description="memory this process and its workers may use (the pod's limit, MiB); caps bars and grid points",
    )
    queue_limit: int = Field(64, ge=1, le=10_000, description="queued jobs before the API answers 429")
    job_timeout_seconds: float = Field(600, gt=0, description="a job running longer is killed and failed")
    git_sha: str = Field("unknown", description="the commit this build came from (the release version)")
    namespace: str | None = Field(None, description="the Kubernetes namespace (cleanup deletes finished Jobs there)")
    kubernetes_host: str | None = Field(
        None, description="Kubernetes API server URL for sweep Jobs; default in-cluster credentials"
    )
    sweep_job: SweepJobConfig = Field(
        SweepJobConfig(), description="shard pods of sharded sweeps (JSON), set from the stack's `sweeps` settings"
    )
    trader_session: str = Field("local", description="the trading session the trader runs and the kill switch acts on")
    trader_candidate: Path | None = Field(
        None, description="candidate YAML the trader trades (strategy, params, data, execution); the gate judged it"
    )
    trader_feed_file: Path | None = Field(
        None, description="live bars: a CSV/Parquet file polled for new bars; unset = replay the candidate's data"
    )
    trader_poll_seconds: float = Field(60.0, gt=0, description="seconds between polls of the live feed")
    trader_replay_speed: float = Field(1.0, ge=0, description="replayed bars per second (0 = as fast as possible)")
    trader_risk: RiskLimits = Field(
        default_factory=RiskLimits,
        description="the trader's risk limits, one TRADEOPS_TRADER_<LIMIT> variable per field of "
        "tradeops.trader.risk.RiskLimits (the names the stack renders into the trader's Deployment)",
    )
    broker_kind: Literal["paper", "ccxt"] = Field(
        "paper", description="where orders go: the paper broker, or a venue through ccxt (docs/trader.md: going live)"
    )
    broker_exchange: str = Field("binance", pattern=r"^[a-z0-9]+$", description="the ccxt exchange id of the venue")
    broker_sandbox: bool = Field(True, description="trade on the venue's testnet (sandbox) rather than with real money")
    broker_api_key: SecretStr | None = Field(None, description="the venue API key (from the stack's Secret)")
    broker_api_secret: SecretStr | None = Field(None, description="the venue API secret (from the stack's Secret)")
    broker_base_url: str | None = Field(None, description="the venue's API base URL (only to point at a fake)")
    broker_symbols: dict[str, str] = Field(
        default_factory=dict, description='session symbol -> venue symbol, JSON, e.g. {"BTCUSDT": "BTC/USDT"}'
    )
    broker_order_type: Literal["market", "limit"] = Field("market", description="venue orders: market or limit")
    broker_reconcile_every: int = Field(
        60, ge=1, le=100_000, description="bars between reconciliations with the venue (and one on every start)"
    )
    broker_max_bar_age_seconds: float = Field(
        900.0, gt=0, description="a bar closed longer ago than this (catching up after downtime) sends no orders"
    )
    broker_price_buffer: float = Field(
        0.005, ge=0, lt=0.1, description="an order's limit past a fresh quote (0.005 = 0.5%): it never fills beyond"
    )
    broker_request_timeout_seconds: float = Field(10.0, gt=0, le=120, description="deadline of each venue call")
    broker_order_deadline_seconds: float = Field(
        30.0, gt=0, le=600, description="deadline of one order (or one cancel) at the venue, retries included"
    )
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
    database_connect_timeout_seconds: float = Field(
        5.0, ge=1, le=120, description="a database connection not made within this fails (libpq connect_timeout)"
    )
    database_statement_timeout_seconds: float = Field(
        15.0, gt=0, le=3600, description="a database statement (lock waits included) running longer is cancelled"
    )
    dependency_timeout_seconds: float = Field(
        2.0, gt=0, le=60, description="deadline of each readiness check (/readyz answers 503 with the reason then)"
    )
    request_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="an API request not answered within this gets 503 (the service never hangs)"
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, le=1_000_000_000, description="larger request bodies get 413 before any parsing or auth"
    )
    auth_failures_per_minute: int = Field(
        10,
        ge=1,
        le=10_000,
        description="wrong tokens (API, trader, dashboard login) from one client a minute; then 429",
    )
    auth_failures_per_minute_total: int = Field(
        100, ge=1, le=1_000_000, description="wrong tokens from all clients together a minute; then 429 for everyone"
    )
    trusted_proxies: str = Field(
        "",
        description="comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed (none)",
    )
    max_json_depth: int = Field(
        64, ge=8, le=1000, description="JSON bodies (and Slack's payload JSON) nested deeper get 400 before parsing"
    )

    @model_validator(mode="after")
    def _secrets_outside_local(self) -> AppSettings:
        if self.environment != "local":
            token = self.api_token.get_secret_value() if self.api_token else ""
            if len(token) < 16 or token.lower() in PLACEHOLDERS:
                raise ValueError("api_token must be a real secret of 16+ characters outside local")
        if bool(self.slack_token) != bool(self.slack_channel):
            raise ValueError("set slack_token and slack_channel together")
        if self.broker_kind == "ccxt" and not (self.broker_api_key and self.broker_api_secret):
            raise ValueError("broker_kind ccxt needs TRADEOPS_BROKER_API_KEY and TRADEOPS_BROKER_API_SECRET")
        if self.environment in STRICT_ENVIRONMENTS:
            problems = self._strict_problems()
            if problems:
                raise ValueError(f"refused in {self.environment}: " + "; ".join(problems))
        return self

    def _strict_problems(self) -> list[str]:
        """Every reason this configuration must not run in staging or prod (values are never quoted)."""
        problems = []
        for name, secret in self._secrets().items():
            if secret is None:
                if name == "TRADEOPS_API_TOKEN":
                    problems.append(f"{name}: must be set")
            elif name == "TRADEOPS_MCP_TOKENS":
                problems += [f"{name} {reason}" for reason in weak_principal_tokens(secret.get_secret_value())]
            elif reason := weak_secret(secret.get_secret_value()):
                problems.append(f"{name}: {reason}")
        if not self.database_url:
            problems.append("TRADEOPS_DATABASE_URL: must be set (no SQLite fallback outside dev)")
        urls = {"TRADEOPS_DATABASE_URL": self.database_url, "TRADEOPS_PROMOTION_LEDGER_URL": self.promotion_ledger_url}
        for name, url in urls.items():
            if url and (reason := weak_database_url(url)):
                problems.append(f"{name}: {reason}")
        if not self.object_store:
            problems.append("TRADEOPS_OBJECT_STORE: must be set (no local folder fallback outside dev)")
        return problems

    def _secrets(self) -> dict[str, SecretStr | None]:
        """Every secret setting by its variable: each SecretStr field, so a new one is checked without a list."""
        return {
            f"{PREFIX}{name.upper()}": getattr(self, name)
            for name, field in type(self).model_fields.items()
            if SecretStr in (field.annotation, *get_args(field.annotation))
        }

    @property
    def limits(self) -> Limits:
        """The largest backtest and sweep a worker may take, from memory_limit_mib and workers."""
        return Limits.from_memory(self.memory_limit_mib, self.workers)

    @field_serializer("database_url")
    def _database_url_without_password(self, url: str | None) -> str | None:
        """A dump (logs, `config show`, model_dump) never carries the database password."""
        return mask_password(url)

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


def mask_password(url: str | None) -> str | None:
    """`url` with the password of its user part, and any `password=` query parameter, replaced by `***`."""
    if not url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        user, _, host = authority.rpartition("@")
        authority = (user.split(":", 1)[0] + ":***" if ":" in user else user) + "@" + host
    path = re.sub(r"(?i)((?:^|[?&])password=)[^&]*", r"\1***", path)
    return f"{scheme}://{authority}{slash}{path}"


@dataclass(frozen=True)
class Variable:
    """One TRADEOPS_* variable: the setting it fills (two names for a field of a FLAT nested one) and its field."""

    name: str
    path: tuple[str, ...]
    field: FieldInfo

    def value(self, settings: BaseModel) -> Any:
        for name in self.path:
            settings = getattr(settings, name)
        return settings

    def given(self, settings: BaseModel) -> bool:
        """Set in the environment or passed as an argument (not defaulted)."""
        *parents, name = self.path
        owner = Variable(self.name, tuple(parents), self.field).value(settings)
        return self.name in os.environ or name in owner.model_fields_set


def variables(settings: type[BaseSettings] = AppSettings) -> list[Variable]:
    """Every variable the settings read, in declaration order, a FLAT nested setting's fields in its place."""
    found = []
    for name, field in settings.model_fields.items():
        if name in FLAT:
            nested = _nested_model(settings, name).model_fields
            found += [Variable(flat_variable(name, sub), (name, sub), info) for sub, info in nested.items()]
        else:
            found.append(Variable(f"{PREFIX}{name.upper()}", (name,), field))
    return found


def _spelled(loc: tuple[int | str, ...]) -> str:
    """A field of a FLAT nested setting named as its variable is: trader_max_drawdown_pct, not trader_risk.max..."""
    if len(loc) > 1 and loc[0] in FLAT:
        loc = (flat_variable(str(loc[0]), str(loc[1])).removeprefix(PREFIX).lower(), *loc[2:])
    return ".".join(map(str, loc))


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
        raise ConfigError(f"invalid TRADEOPS_* settings: {format_validation(error, _spelled)}") from error
