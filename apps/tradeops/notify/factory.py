"""Pick the notifier the settings ask for."""

from __future__ import annotations

from tradeops.notify.base import Notifier
from tradeops.notify.console import ConsoleNotifier
from tradeops.settings import AppSettings


def open_notifier(settings: AppSettings) -> Notifier:
    """Slack when a token and channel are set, else the console (JSON lines in data_dir/notifications.log)."""
    if settings.slack_token and settings.slack_channel:
        from tradeops.notify.slack import SlackNotifier

        return SlackNotifier(
            settings.slack_token.get_secret_value(), settings.slack_channel, base_url=settings.slack_base_url
        )
    return ConsoleNotifier(settings.data_dir / "notifications.log")
