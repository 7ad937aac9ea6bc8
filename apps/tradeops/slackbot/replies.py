"""What the bot says back: a message (text and optional Block Kit blocks) and its delivery to `response_url`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from tradeops.gate import Verdict

log = logging.getLogger(__name__)
MAX_TEXT = 2900  # a section block holds 3000 characters


@dataclass(frozen=True)
class Reply:
    """One Slack message; `ephemeral` ones only the asker sees."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    visibility: Literal["ephemeral", "in_channel"] = "ephemeral"
    replace_original: bool = False

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"response_type": self.visibility, "text": self.text[:MAX_TEXT]}
        if self.blocks:
            body["blocks"] = self.blocks
        if self.replace_original:
            body["replace_original"] = True
        return body


def confirmation_blocks(
    question: str, block_id: str, confirm: tuple[str, str], cancel_id: str, value: str, style: str = "primary"
) -> list[dict[str, Any]]:
    """A question with a confirm button (action id, label) and a Cancel button; both carry `value`."""
    confirm_id, label = confirm
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": question}},
        {
            "type": "actions",
            "block_id": block_id,
            "elements": [
                {
                    "type": "button",
                    "action_id": confirm_id,
                    "text": {"type": "plain_text", "text": label},
                    "style": style,
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": cancel_id,
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "value": value,
                },
            ],
        },
    ]


def plain(text: str) -> str:
    """Text Slack shows as written: its control characters &, < and > escaped (no links, no mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def error_reply(message: str) -> Reply:
    return Reply(f":warning: {message}")


class ResponsePoster:
    """POST replies to Slack's `response_url` (valid 30 minutes, five uses); failures are logged, not raised."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._http = httpx.Client(timeout=timeout)

    def post(self, response_url: str, reply: Reply) -> bool:
        try:
            response = self._http.post(response_url, json=reply.body())
        except httpx.HTTPError as error:
            log.warning("reply not delivered: %s", type(error).__name__)
            return False
        if response.status_code >= 300:
            log.warning("reply refused by Slack: %s %s", response.status_code, response.text[:200])
            return False
        return True

    def close(self) -> None:
        self._http.close()


def number(value: Any, digits: int = 2) -> str:
    """A metric for people: rounded, `n/a` when missing."""
    if isinstance(value, bool) or value is None:
        return "n/a" if value is None else str(value)
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,d}"
    return str(value)


def checks_lines(checks: list[dict[str, Any]]) -> list[str]:
    """One line per gate check: outcome, name, value against limit."""
    return [
        f"{':white_check_mark:' if c.get('passed') else ':x:'} `{c.get('name')}` "
        f"{number(c.get('value'), 3)} (limit {number(c.get('limit'), 3)})"
        for c in checks
    ]


def verdict_lines(verdict: Verdict) -> list[str]:
    if verdict.error is not None:
        return [f"gate could not decide (exit 2): {verdict.error}"]
    head = "gate PASSED (exit 0)" if verdict.passed else "gate FAILED (exit 1)"
    return [head, *checks_lines(verdict.to_dict()["checks"])]
