"""What the MCP tools work with: the same stores, kill switch, audit log and proposal path as the Slack app."""

from __future__ import annotations

from dataclasses import dataclass

from tradeops.assistant.access import AccessError, Principals, RateLimiter, writers
from tradeops.assistant.backtests import BacktesterCalls
from tradeops.assistant.files import DeskFiles
from tradeops.audit import AuditLog
from tradeops.releases import ReleaseStore
from tradeops.settings import AppSettings
from tradeops.store import ObjectStore, RunStore, open_object_store
from tradeops.trader.control import TraderControl
from tradeops.vcs.proposals import Proposer, open_repository

AUTHOR = ("tradeops mcp", "mcp@tradeops.invalid")


@dataclass
class AssistantDesk:
    """Everything a tool needs, opened once per server."""

    settings: AppSettings
    store: RunStore
    objects: ObjectStore
    control: TraderControl
    audit: AuditLog
    releases: ReleaseStore
    backtester: BacktesterCalls
    files: DeskFiles
    proposer: Proposer | None
    principals: Principals
    limiter: RateLimiter
    writers: frozenset[str]

    @property
    def default_stack(self) -> str:
        return "dev" if self.settings.environment == "local" else self.settings.environment

    def check_writer(self, principal: str, action: str, target: str, detail: dict[str, object]) -> None:
        """Raise AccessError (audited as `denied`) unless `principal` is in the stack's writers list."""
        if principal in self.writers:
            return
        self.audit.record(actor=f"mcp:{principal}", action=action, target=target, outcome="denied", detail=detail)
        raise AccessError(
            f"{principal} may not {action.removeprefix('mcp.')}: only the stack's MCP writers may "
            f"(TRADEOPS_MCP_WRITERS: {', '.join(sorted(self.writers)) or 'nobody'})"
        )

    async def close(self) -> None:
        await self.backtester.aclose()
        self.store.close()


def backtester_calls(settings: AppSettings) -> BacktesterCalls:
    """The backtester at TRADEOPS_BACKTESTER_URL, or, when that is not set, the same API inside this process."""
    token = settings.api_token.get_secret_value() if settings.api_token else None
    if "backtester_url" in settings.model_fields_set:
        return BacktesterCalls(settings.backtester_url, token, timeout_seconds=settings.job_timeout_seconds)
    from tradeops.assistant.embedded import BASE_URL, EmbeddedBacktester

    embedded = EmbeddedBacktester(settings)
    return BacktesterCalls(BASE_URL, token, timeout_seconds=settings.job_timeout_seconds, transport=embedded)


def open_desk(settings: AppSettings) -> AssistantDesk:
    """Open the stores and the clients the settings name."""
    principals = Principals.from_settings(settings)  # a bad token list fails before anything opens
    store = RunStore.from_settings(settings, application="tradeops-mcp")
    objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    repository, pulls = open_repository(settings)
    return AssistantDesk(
        settings=settings,
        store=store,
        objects=objects,
        control=TraderControl(store.engine),
        audit=AuditLog(store.engine),
        releases=ReleaseStore(objects),
        backtester=backtester_calls(settings),
        files=DeskFiles(repository, settings.mcp_files_dir),
        proposer=Proposer(repository, pulls, via="MCP", author=AUTHOR, objects=objects) if repository else None,
        principals=principals,
        limiter=RateLimiter(settings.mcp_calls_per_minute),
        writers=writers(settings),
    )
