"""The Slack app: `/trading` slash commands and the kill switch's confirmation buttons, verified and audited."""

from tradeops.slackbot.app import create_app

__all__ = ["create_app"]
