"""Open a ccxt exchange with trading credentials, and call it under a deadline.

The only module besides `ccxt_broker` that imports ccxt, and only inside functions: a command that
never trades never pays for it (tests/apps/cli/test_lazy_imports.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tradeops.errors import ConfigError, VenueError

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    """How long one venue call may take (`request_seconds`, ccxt's timeout) and one order in all, retries included."""

    request_seconds: float = 10.0
    order_seconds: float = 30.0
    backoff_seconds: float = 0.2


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
    import ccxt

    from tradeops.data.fetch import _rebase

    if exchange_id not in ccxt.exchanges:
        raise ConfigError(f"broker.exchange {exchange_id!r}: not a ccxt exchange id (e.g. binance, kraken)")
    if not api_key or not secret:
        raise ConfigError("the venue broker needs TRADEOPS_BROKER_API_KEY and TRADEOPS_BROKER_API_SECRET")
    exchange = getattr(ccxt, exchange_id)(
        {
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
    )
    if sandbox:
        exchange.set_sandbox_mode(True)
    if base_url:
        exchange.urls["api"] = _rebase(exchange.urls["api"], base_url.rstrip("/"))
    return exchange


def retrying(what: str, call: Callable[[], T], deadline: Deadline, *, until: float | None = None) -> T:
    """Call the venue, retrying network failures (timeouts, 5xx, 429) until the deadline; then a VenueError.

    Only for calls that are safe to repeat (reads, cancels); placing an order has its own path.
    Bad credentials are a VenueError at once: retrying cannot fix them.
    """
    import ccxt

    stop = until if until is not None else time.monotonic() + deadline.order_seconds
    attempt = 0
    while True:
        try:
            return call()
        except ccxt.AuthenticationError as error:
            raise VenueError(f"{what}: the venue refused the API key: {error}") from None
        except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as error:
            wait = min(2.0, deadline.backoff_seconds * 2**attempt)
            if time.monotonic() + wait >= stop:
                raise VenueError(f"{what}: no answer from the venue in time ({type(error).__name__})") from None
            time.sleep(wait)
            attempt += 1
