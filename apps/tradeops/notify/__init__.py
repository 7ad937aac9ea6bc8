"""Notifications: one protocol, Slack in the cluster and the console on a laptop."""

from tradeops.notify.base import Message, Notifier
from tradeops.notify.factory import open_notifier

__all__ = ["Message", "Notifier", "open_notifier"]
