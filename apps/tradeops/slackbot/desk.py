"""What the handlers work with: settings, stores, the kill switch, the audit log, and the outside services."""

from __future__ import annotations

from dataclasses import dataclass

from tradeops.audit import AuditLog
from tradeops.releases import ReleaseStore
from tradeops.settings import AppSettings
from tradeops.slackbot.backtest import BacktesterClient
from tradeops.slackbot.permissions import Permissions
from tradeops.store import ObjectStore, RunStore
from tradeops.trader.control import TraderControl
from tradeops.vcs.proposals import Proposer
from tradeops.vcs.stacks import StackRepository


@dataclass(frozen=True)
class Caller:
    """Who sent a command or clicked a button, and where."""

    user_id: str
    user_name: str
    channel: str

    @property
    def actor(self) -> str:
        """How the audit log names a Slack user."""
        return f"slack:{self.user_id}"


@dataclass
class Desk:
    """Everything a command needs."""

    settings: AppSettings
    store: RunStore
    objects: ObjectStore
    control: TraderControl
    audit: AuditLog
    permissions: Permissions
    releases: ReleaseStore
    backtester: BacktesterClient
    repository: StackRepository | None
    proposer: Proposer | None

    @property
    def default_stack(self) -> str:
        """The stack this bot runs in (`dev` for a local run)."""
        return "dev" if self.settings.environment == "local" else self.settings.environment

    @property
    def public_backtester_url(self) -> str:
        return self.settings.backtester_public_url or self.settings.backtester_url
