"""Build the venue broker from settings: `TRADEOPS_BROKER_KIND=ccxt` and the key and secret from the Secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeops.errors import ConfigError

if TYPE_CHECKING:
    from tradeops.settings import AppSettings
    from tradeops.trader.venue.ccxt_broker import CcxtBroker
    from tradeops.trader.venue.session import VenueSession


def venue_broker(settings: AppSettings, *, fraction: float = 1.0, slippage: float = 0.0) -> CcxtBroker:
    """The venue broker the settings name; a ConfigError when they name the paper broker."""
    from tradeops.trader.venue.ccxt_broker import CcxtBroker
    from tradeops.trader.venue.exchange import Deadline, open_venue

    if settings.broker_kind != "ccxt":
        raise ConfigError("no venue broker: TRADEOPS_BROKER_KIND is paper (set it to ccxt; docs/trader.md)")
    assert settings.broker_api_key is not None and settings.broker_api_secret is not None  # settings validated
    deadline = Deadline(
        request_seconds=settings.broker_request_timeout_seconds, order_seconds=settings.broker_order_deadline_seconds
    )
    exchange = open_venue(
        settings.broker_exchange,
        api_key=settings.broker_api_key.get_secret_value(),
        secret=settings.broker_api_secret.get_secret_value(),
        sandbox=settings.broker_sandbox,
        deadline=deadline,
        base_url=settings.broker_base_url,
    )
    return CcxtBroker(
        exchange,
        symbols=settings.broker_symbols,
        fraction=fraction,
        slippage=slippage,
        order_type=settings.broker_order_type,
        price_buffer=settings.broker_price_buffer,
        deadline=deadline,
    )


def venue_session(settings: AppSettings, *, fraction: float = 1.0, slippage: float = 0.0) -> VenueSession | None:
    """The trading loop's venue hooks, or None for the paper broker."""
    if settings.broker_kind != "ccxt":
        return None
    from tradeops.trader.venue.session import VenueSession

    broker = venue_broker(settings, fraction=fraction, slippage=slippage)
    return VenueSession(
        broker, reconcile_every=settings.broker_reconcile_every, max_bar_age_seconds=settings.broker_max_bar_age_seconds
    )
