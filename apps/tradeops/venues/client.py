"""Open a ccxt exchange, for market data or for trading, and call it under one retry policy.

Market data (`tradeops data fetch`) and the venue broker both open ccxt here, so a venue's failures
are met one way everywhere:

- network errors, timeouts, 5xx and 429 (ccxt's OperationFailed family: "may succeed if retried",
  which holds a venue's "internal error, try again" answers too) are retried, backing off from
  `backoff_seconds` (doubling, capped at `max_backoff_seconds`), until the call's deadline or its
  `attempts`, whichever comes first;
- a Retry-After the venue sends (with a 429 or a 503) is honoured: the next try waits at least that
  long, and a wait that would pass the deadline is not begun;
- a refused API key is never retried;
- each wait is reported to `on_wait` (`data fetch` prints "retrying in Ns (reason)" on stderr).

Only calls that are safe to repeat go through `retrying` (reads, cancels); placing an order has its
own path in the broker. ccxt is imported only inside functions: a command that never calls a venue
never pays for it (tests/apps/cli/test_lazy_imports.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlparse

from tradeops.errors import ConfigError, DataError, TradeopsError, VenueError

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    """How long one HTTP request may take (`request_seconds`, ccxt's timeout), one call (an order, a cancel, a
    page of bars) in all, retries included (`order_seconds`), the first backoff and the most tries (None: as many
    as the deadline allows)."""

    request_seconds: float = 10.0
    order_seconds: float = 30.0
    backoff_seconds: float = 0.2
    max_backoff_seconds: float = 2.0
    attempts: int | None = None


@dataclass(frozen=True)
class Wait:
    """One wait before a retry: what is retried, how long, and why (the error, and the venue's Retry-After)."""

    what: str
    seconds: float
    reason: str
    attempt: int  # the try that failed, from 1
    attempts: int | None = None  # how many tries the policy allows (None: until the deadline)

    def describe(self) -> str:
        of = f"/{self.attempts}" if self.attempts is not None else ""
        return f"{self.what}: attempt {self.attempt}{of} failed; retrying in {self.seconds:.3g}s ({self.reason})"


def open_exchange(
    exchange_id: str, *, base_url: str | None = None, timeout_ms: int = 15_000, rate_limited: bool = True
) -> Any:
    """Return a ccxt exchange for public market data; `base_url` replaces the host of every API URL.

    `rate_limited=False` switches ccxt's throttle off (only for benchmarks against a local fake).
    """
    return _open(
        exchange_id,
        {"enableRateLimit": rate_limited, "timeout": timeout_ms, "options": {"fetchMarkets": {"types": ["spot"]}}},
        base_url,
        DataError(f"--exchange {exchange_id!r}: not a ccxt exchange id (e.g. binance, kraken, coinbase)"),
    )


def open_venue(
    exchange_id: str,
    *,
    api_key: str,
    secret: str,
    sandbox: bool,
    deadline: Deadline,
    base_url: str | None = None,
) -> Any:
    """Return a ccxt exchange that trades spot with these credentials (`sandbox` selects the venue's testnet).

    `base_url` replaces the host of every API URL (a local fake venue in tests).
    """
    if not api_key or not secret:
        raise ConfigError("the venue broker needs TRADEOPS_BROKER_API_KEY and TRADEOPS_BROKER_API_SECRET")
    config = {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": True,
        "timeout": int(deadline.request_seconds * 1000),
        "options": {
            "fetchMarkets": {"types": ["spot"]},
            "defaultType": "spot",
            "fetchCurrencies": False,  # wallet and margin endpoints the spot broker does not need
            "fetchMargins": False,
            "newOrderRespType": {"market": "FULL", "limit": "FULL"},
        },
    }
    unknown = ConfigError(f"broker.exchange {exchange_id!r}: not a ccxt exchange id (e.g. binance, kraken)")
    return _open(exchange_id, config, base_url, unknown, sandbox=sandbox)


def _open(
    exchange_id: str, config: dict[str, Any], base_url: str | None, unknown: TradeopsError, *, sandbox: bool = False
) -> Any:
    import ccxt

    if exchange_id not in ccxt.exchanges:
        raise unknown
    exchange = getattr(ccxt, exchange_id)(config)
    if sandbox:
        exchange.set_sandbox_mode(True)
    if base_url:
        exchange.urls["api"] = _rebase(exchange.urls["api"], base_url.rstrip("/"))
    _note_retry_after(exchange)
    return exchange


def _rebase(urls: Any, base: str) -> Any:
    if isinstance(urls, dict):
        return {key: _rebase(value, base) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith("http"):
        return base + urlparse(urls).path
    return urls


def _note_retry_after(exchange: Any) -> None:
    """Make every retryable error of `exchange` carry the Retry-After of the answer that raised it (ccxt keeps the
    headers on the exchange, not on the error, and a caller of `retrying` holds only a function)."""
    import ccxt

    send = exchange.fetch

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        exchange.last_response_headers = None  # a request that got no answer has no headers: never a stale one
        try:
            return send(url, method, headers, body)
        except ccxt.OperationFailed as error:
            error.retry_after_seconds = retry_after(exchange.last_response_headers)
            raise

    exchange.fetch = fetch


def retry_after(headers: Any) -> float | None:
    """The wait a Retry-After header asks for, in seconds (delta-seconds or an HTTP date); None when absent."""
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def retrying(
    what: str,
    call: Callable[[], T],
    deadline: Deadline,
    *,
    until: float | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    failure: type[TradeopsError] = VenueError,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call the venue under the policy above until `until` (a monotonic time; default now + `order_seconds`).

    Giving up is a `failure` (VenueError, or DataError for market data) naming `what` and the last error;
    errors that are not the network's (an unknown order, a rejected one) pass through unchanged.
    """
    import ccxt

    stop = until if until is not None else time.monotonic() + deadline.order_seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except ccxt.AuthenticationError as error:
            raise failure(f"{what}: the venue refused the API key: {error}") from None
        except ccxt.OperationFailed as error:
            name = type(error).__name__
            if deadline.attempts is not None and attempt >= deadline.attempts:
                raise failure(f"{what}: failed after {attempt} attempts: {name}: {error}") from None
            asked = getattr(error, "retry_after_seconds", None)
            wait = min(deadline.max_backoff_seconds, deadline.backoff_seconds * 2 ** (attempt - 1))
            if asked is not None:
                wait = max(wait, asked)
            if time.monotonic() + wait >= stop:
                late = f"; it asked to wait {asked:g}s" if asked is not None else ""
                raise failure(f"{what}: no answer from the venue in time ({name}{late})") from None
            reason = name if asked is None else f"{name}, Retry-After {asked:g}s"
            if on_wait is not None:
                on_wait(Wait(what, wait, reason, attempt, deadline.attempts))
            sleep(wait)
