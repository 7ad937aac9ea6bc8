"""Slack request signatures: every inbound request must carry a fresh, valid `X-Slack-Signature`.

slack-sdk's SignatureVerifier computes `v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")`, compares it
with `hmac.compare_digest` (timing-safe) and refuses timestamps more than five minutes away.
"""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.signature import Clock, SignatureVerifier

from tradeops.errors import ConfigError


class RequestVerifier:
    """Check the signature of one request's raw body and headers."""

    def __init__(self, signing_secret: str, clock: Clock | None = None) -> None:
        try:
            self._verifier = SignatureVerifier(signing_secret, clock or Clock())
        except ValueError as error:
            raise ConfigError(f"TRADEOPS_SLACK_SIGNING_SECRET: {error}") from None

    def is_valid(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """True only for a signed request within the replay window; malformed headers are simply invalid."""
        try:
            return self._verifier.is_valid_request(body, headers)
        except ValueError:  # a timestamp that is not a number, a body that is not UTF-8
            return False
