"""Who is calling and what they may do: principals from bearer tokens, the writers list, rate limits."""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tradeops.errors import ConfigError
from tradeops.secrecy import MIN_SECRET_LENGTH, principal_tokens
from tradeops.settings import AppSettings


class AccessError(ConfigError):
    """A call is refused: not allowed for this principal, or over its rate limit."""


def parse_tokens(text: str) -> dict[str, str]:
    """`alice=TOKEN,bob=TOKEN` -> {token: principal}; a ConfigError names a malformed pair (never its token)."""
    tokens: dict[str, str] = {}
    for number, pair in enumerate(principal_tokens(text), start=1):
        if pair is None or len(pair[1]) < MIN_SECRET_LENGTH:
            raise ConfigError(f"TRADEOPS_MCP_TOKENS pair {number}: PRINCIPAL=TOKEN, a token of 16+ characters")
        principal, token = pair
        tokens[token] = principal
    return tokens


@dataclass(frozen=True)
class Principals:
    """Bearer token -> principal; without tokens (local only) every request is `open_as`."""

    tokens: dict[str, str]
    open_as: str | None

    @classmethod
    def from_settings(cls, settings: AppSettings) -> Principals:
        text = settings.mcp_tokens.get_secret_value() if settings.mcp_tokens else ""
        tokens = parse_tokens(text)
        if not tokens and settings.environment != "local":
            raise ConfigError("the MCP server needs TRADEOPS_MCP_TOKENS (PRINCIPAL=TOKEN pairs) outside local")
        return cls(tokens, None if tokens else settings.mcp_principal)

    def principal(self, authorization: str | None) -> str | None:
        """The principal an `Authorization: Bearer ...` header names, else None (constant-time comparisons)."""
        if self.open_as is not None:
            return self.open_as
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return None
        found = None
        for token, principal in self.tokens.items():
            if hmac.compare_digest(given.strip().encode(), token.encode()):
                found = principal
        return found


@dataclass
class RateLimiter:
    """At most `per_minute` calls per principal in any sliding minute; memory bounded by that count."""

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _calls: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, principal: str) -> None:
        """Count one call, or raise AccessError saying when the next one is allowed."""
        now = self.clock()
        with self._lock:
            calls = self._calls.setdefault(principal, deque(maxlen=self.per_minute))
            while calls and now - calls[0] >= 60:
                calls.popleft()
            if len(calls) >= self.per_minute:
                wait = 60 - (now - calls[0])
                raise AccessError(
                    f"rate limit: {principal} may make {self.per_minute} calls a minute; retry in {wait:.0f} s"
                )
            calls.append(now)


def writers(settings: AppSettings) -> frozenset[str]:
    """The principals the stack lets write (propose, halt, reduce-only, resume)."""
    return frozenset(w for w in settings.mcp_writers.split(",") if w)
