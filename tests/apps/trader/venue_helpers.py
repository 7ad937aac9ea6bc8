"""A fake Binance funded for trading, and the venue broker pointed at it with ccxt."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

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


def fund_other_money(fake: FakeBinance, amounts: dict[str, float]) -> None:
    """Put money the session never trades in the venue account (other assets, another desk's cash)."""
    for asset, amount in amounts.items():
        fake.account.fund(asset, amount)


def broker(fake: FakeBinance, *, deadline: Deadline = FAST, **options: object) -> CcxtBroker:
    exchange = open_venue(
        "binance", api_key="fake-key", secret="fake-secret", sandbox=False, deadline=deadline, base_url=fake.url
    )
    unthrottled(exchange)
    return CcxtBroker(exchange, symbols=SYMBOLS, deadline=deadline, **options)  # type: ignore[arg-type]


def unthrottled(exchange: Any) -> None:
    """Switch ccxt's client-side throttle off: the fake has no rate limit (a 429 is a fault a test injects), and
    the throttle's sleeps (~60 ms a request) were most of a venue test's time."""
    exchange.enableRateLimit = False


def set_prices(fake: FakeBinance, prices: dict[str, float]) -> None:
    """Where the venue's market orders fill now, by session symbol."""
    for symbol, price in prices.items():
        fake.account.price[SYMBOLS[symbol].replace("/", "")] = Decimal(f"{price:.2f}")


def duplicates(fake: FakeBinance) -> dict[str, int]:
    """Client order ids the venue accepted more than once."""
    counts = Counter(order["clientOrderId"] for order in fake.account.orders)
    return {cid: n for cid, n in counts.items() if n > 1}


def venue_settings(fake: FakeBinance) -> dict[str, Any]:
    """The settings that point a process's venue broker at the fake."""
    return {
        "broker_kind": "ccxt",
        "broker_sandbox": False,
        "broker_api_key": "fake-key",
        "broker_api_secret": "fake-secret",
        "broker_base_url": fake.url,
        "broker_symbols": SYMBOLS,
        "broker_request_timeout_seconds": 1,
        "broker_order_deadline_seconds": 3,
    }


@contextmanager
def venue_trader(data_dir: Path, fake: FakeBinance, token: str, *, replay_speed: float = 0) -> Iterator[str]:
    """`tradeops serve trader` on loopback, trading sma_cross on two synthetic symbols at the fake venue."""
    import yaml

    from tests.fakes.servers import uvicorn_server
    from tradeops.settings import load_settings
    from tradeops.trader.service import create_app

    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = data_dir / "candidate.yaml"
    data = "sample:synthetic?symbols=2&bars=120"
    candidate.write_text(yaml.safe_dump({"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "data": data}))
    settings = load_settings(
        data_dir=data_dir, api_token=token, trader_candidate=candidate, trader_session="svc",
        trader_replay_speed=replay_speed, **venue_settings(fake),
    )  # fmt: skip
    with uvicorn_server(create_app(settings)) as base:
        yield base


def left_open(fake: FakeBinance, client_id: str) -> None:
    """A limit buy far below the market: it rests at the venue until someone cancels it."""
    broker(fake).exchange.create_order("BTC/USDT", "limit", "buy", 0.1, 50.0, params={"newClientOrderId": client_id})
