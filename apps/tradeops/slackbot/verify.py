"""Slack request signatures: every inbound request must carry a fresh, valid `X-Slack-Signature`, once.

slack-sdk's SignatureVerifier computes `v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")`, compares it
with `hmac.compare_digest` (timing-safe) and refuses timestamps more than five minutes away. Within those
five minutes an exact copy of a signed request would verify again, so each accepted signature is remembered
until its timestamp leaves the window, and a second arrival is refused (a replay).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from slack_sdk.signature import Clock, SignatureVerifier

from tradeops.errors import ConfigError

REPLAY_WINDOW_SECONDS = 5 * 60  # slack-sdk's own freshness window
MAX_REMEMBERED = 100_000  # signatures kept at most: ~10 MB, far above Slack's rate for one app


class RequestVerifier:
    """Check the signature of one request's raw body and headers; refuse a signature seen before."""

    def __init__(self, signing_secret: str, clock: Clock | None = None) -> None:
        self._clock = clock or Clock()
        try:
            self._verifier = SignatureVerifier(signing_secret, self._clock)
        except ValueError as error:
            raise ConfigError(f"TRADEOPS_SLACK_SIGNING_SECRET: {error}") from None
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature -> when it can be forgotten
        self._lock = threading.Lock()

    def is_valid(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """True only for a signed request within the replay window, the first time; malformed headers are
        simply invalid."""
        try:
            if not self._verifier.is_valid_request(body, headers):
                return False
        except ValueError:  # a timestamp that is not a number, a body that is not UTF-8
            return False
        lowered = {k.lower(): v for k, v in headers.items()}
        return self._first_time(lowered["x-slack-signature"], int(lowered["x-slack-request-timestamp"]))

    def _first_time(self, signature: str, timestamp: int) -> bool:
        now = self._clock.now()
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now or len(self._seen) >= MAX_REMEMBERED):
                self._seen.popitem(last=False)
            if signature in self._seen:
                return False
            self._seen[signature] = max(timestamp, now) + REPLAY_WINDOW_SECONDS
            return True
