"""Slack notifications on slack-sdk: Block Kit messages, one thread per run, retries, never blocking work."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import RandomJitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from tradeops.notify.base import Message

log = logging.getLogger(__name__)
MAX_THREADS = 1000


class ServerErrorRetryHandler(RetryHandler):
    """Retry 5xx answers with exponential backoff (slack-sdk retries 429 and connection errors itself)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code >= 500


def blocks(message: Message) -> list[dict[str, Any]]:
    """Lay a message out in Block Kit: header, fields, then the detail lines."""
    emoji = ":white_check_mark:" if message.ok else ":x:"
    layout: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{emoji} *{message.title}*"}}
    ]
    if message.fields:
        fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in list(message.fields.items())[:10]]
        layout.append({"type": "section", "fields": fields})
    if message.lines:
        layout.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(message.lines)[:2900]}})
    return layout


class SlackNotifier:
    """Post to one channel from a background thread; failures are counted and logged, never raised."""

    def __init__(
        self,
        token: str,
        channel: str,
        *,
        base_url: str | None = None,
        max_queue: int = 1000,
        backoff_seconds: float = 0.5,
    ) -> None:
        calculator = BackoffRetryIntervalCalculator(backoff_factor=backoff_seconds, jitter=RandomJitter())
        handlers: list[RetryHandler] = [
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=3, interval_calculator=calculator),
            ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=calculator),
        ]
        options: dict[str, Any] = {"token": token, "retry_handlers": handlers, "timeout": 10}
        if base_url:
            options["base_url"] = base_url
        self.client = WebClient(**options)
        self.channel = channel
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._threads: dict[str, str] = {}  # thread_key -> ts of the run's first message
        self._queue: queue.Queue[Message | None] = queue.Queue(maxsize=max_queue)
        self._worker = threading.Thread(target=self._drain, name="slack-notifier", daemon=True)
        self._worker.start()

    def send(self, message: Message) -> None:
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped += 1
            log.warning("slack queue full: dropped %s", message.kind)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (up to `timeout`), then stop."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._worker.join(timeout)

    def _drain(self) -> None:
        while (message := self._queue.get()) is not None:
            self._post(message)

    def _post(self, message: Message) -> None:
        thread_ts = self._threads.get(message.thread_key) if message.thread_key else None
        try:
            response = self.client.chat_postMessage(
                channel=self.channel, text=message.text(), blocks=blocks(message), thread_ts=thread_ts
            )
        except SlackApiError as error:
            self.failed += 1
            log.warning("slack rejected %s: %s", message.kind, error.response.get("error"))
            return
        except Exception as error:  # noqa: BLE001 - an outage must never reach the caller
            self.failed += 1
            log.warning("slack unreachable for %s: %s", message.kind, error)
            return
        self.sent += 1
        if message.thread_key and thread_ts is None and response.get("ts"):
            self._threads[message.thread_key] = str(response["ts"])
            while len(self._threads) > MAX_THREADS:  # remember the newest runs only
                self._threads.pop(next(iter(self._threads)))
