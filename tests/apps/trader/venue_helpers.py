"""A fake Binance funded for trading, and the venue broker pointed at it with ccxt."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tests.fakes.exchange import FakeBinance, walk
from tradeops.trader.venue.ccxt_broker import CcxtBroker
from tradeops.trader.venue.exchange import Deadline, open_venue

SYMBOLS = {"SYN000": "BTC/USDT", "SYN001": "ETH/USDT"}
FAST = Deadline(request_seconds=0.5, order_seconds=6.0, backoff_seconds=0.05)


def funded_venue(usdt: float = 50_000.0) -> FakeBinance:
    fake = FakeBinance()
    fake.add_market("BTC", "USDT", walk(0, 5, price=100.0))
    fake.add_market("ETH", "USDT", walk(0, 5, price=180.0))
    fake.account.fund("USDT", usdt)
    return fake


def broker(fake: FakeBinance, *, deadline: Deadline = FAST, **options: object) -> CcxtBroker:
    exchange = open_venue(
        "binance", api_key="fake-key", secret="fake-secret", sandbox=False, deadline=deadline, base_url=fake.url
    )
    return CcxtBroker(exchange, symbols=SYMBOLS, deadline=deadline, **options)  # type: ignore[arg-type]


def set_prices(fake: FakeBinance, prices: dict[str, float]) -> None:
    """Where the venue's market orders fill now, by session symbol."""
    for symbol, price in prices.items():
        fake.account.price[SYMBOLS[symbol].replace("/", "")] = Decimal(f"{price:.2f}")


def duplicates(fake: FakeBinance) -> dict[str, int]:
    """Client order ids the venue accepted more than once."""
    counts = Counter(order["clientOrderId"] for order in fake.account.orders)
    return {cid: n for cid, n in counts.items() if n > 1}
