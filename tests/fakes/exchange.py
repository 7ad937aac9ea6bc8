"""A local fake of Binance's public spot REST API (the wire format ccxt's `binance` speaks).

Serves `/api/v3/time`, `/api/v3/exchangeInfo` and `/api/v3/klines` from candles the test sets,
and the quotes `/api/v3/ticker/24hr` (ccxt's fetch_ticker), `/api/v3/ticker/bookTicker` and
`/api/v3/depth` (fetch_order_book) from the account's price and spread, on a loopback port, with a
server clock the test controls (the newest candle is still forming until the clock passes its
close). The signed endpoints (orders, open orders, balances, trades) are a `SpotAccount`
(tests/fakes/binance_account.py, which lists the account's switches).

Switches a test sets here (the defaults: answer at once, no faults):
- `add_market(..., step=, tick=, min_qty=, min_notional=)`: the market's filters; None omits a minimum.
- `faults`: HTTP statuses answered to the next klines requests instead of candles.
- `storm_status`: answered to every klines request while set (a 5xx storm).
- `too_many_requests`: Retry-After seconds of the next signed requests answered 429 (Binance's -1003).
- `latency_seconds`: added to every request before it is handled; `route_latency[path]` adds to one route.
- `hook`: called with ("before"|"after", method, path) around each signed request; True at "before" drops it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd

from tests.fakes.binance_account import MIN_NOTIONAL, STEP, TICK, MarketRules, SpotAccount, VenueError

Amount = Decimal | float | str

MINUTE_MS = 60_000
INTERVALS_MS = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "1d": 1440 * MINUTE_MS,
}
MAX_LIMIT = 1000
DAY_MS = INTERVALS_MS["1d"]
BOOK_LEVELS, BOOK_QTY = 5, Decimal("10")  # the depth the fake book shows: levels a tick apart, each this size
QUOTES = ("/api/v3/ticker/24hr", "/api/v3/ticker/bookTicker", "/api/v3/depth")
SIGNED = ("/api/v3/order", "/api/v3/openOrders", "/api/v3/account", "/api/v3/myTrades")


@dataclass
class Market:
    """One spot pair: `BTCUSDT` is BTC/USDT to ccxt."""

    base: str
    quote: str
    candles: list[list[float]] = field(default_factory=list)  # [open_time_ms, o, h, l, c, v], sorted

    @property
    def id(self) -> str:
        return self.base + self.quote


def _symbol_info(market: Market, rules: MarketRules) -> dict[str, Any]:
    return {
        "symbol": market.id,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": rules.filters(),
        "permissions": ["SPOT"],
        "permissionSets": [["SPOT"]],
    }


class FakeBinance:
    """Start with `FakeBinance()`; `url` is the base ccxt's `urls['api']` entries point at."""

    def __init__(self) -> None:
        self.markets: dict[str, Market] = {}
        self.now_ms = 0
        self.faults: deque[int] = deque()  # HTTP statuses answered instead of the next requests
        self.storm_status: int | None = None  # answered to every klines request while set
        self.too_many_requests: deque[int] = deque()  # Retry-After seconds of the next signed requests' 429s
        self.latency_seconds = 0.0
        self.route_latency: dict[str, float] = {}
        self.fault_paths = {"/api/v3/klines"}  # the public paths the queued faults answer
        self.retry_after: str | None = None  # the Retry-After header of a fault 429 or 503, when set
        self.requests: list[tuple[float, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.account = SpotAccount()
        self.signed: list[str] = []  # "METHOD /path" of every authenticated signed request
        # called under the lock with (phase "before"|"after", method, path) for each signed request;
        # True at "before" drops the request unhandled. A kill -9 test kills the client here.
        self.hook: Callable[[str, str, str], bool | None] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add_market(
        self,
        base: str,
        quote: str,
        candles: list[list[float]],
        *,
        step: Amount = STEP,
        tick: Amount = TICK,
        min_qty: Amount | None = STEP,
        min_notional: Amount | None = MIN_NOTIONAL,
    ) -> Market:
        """List `base`/`quote` with these filters (None: no such minimum), priced at its last candle's close."""
        market = Market(base, quote, sorted(candles, key=lambda c: c[0]))
        self.markets[market.id] = market
        self.account.pairs[market.id] = (base, quote)
        self.account.rules[market.id] = MarketRules(
            _decimal(step),
            _decimal(tick),
            None if min_qty is None else _decimal(min_qty),
            None if min_notional is None else _decimal(min_notional),
        )
        if market.candles:
            self.account.price[market.id] = Decimal(str(market.candles[-1][4]))
        return market

    def klines_requests(self) -> list[tuple[float, dict[str, str]]]:
        return [(at, query) for at, path, query in self.requests if path == "/api/v3/klines"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        delay = self.latency_seconds + self.route_latency.get(parsed.path, 0.0)
        if delay:
            time.sleep(delay)  # on the way: the venue sees the request this much later
        if parsed.path in SIGNED:
            self._signed(request, parsed.path, parsed.query)
            return
        query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        with self.lock:
            self.requests.append((time.monotonic(), parsed.path, query))
            status = self.faults.popleft() if self.faults and parsed.path in self.fault_paths else None
            if status is None and parsed.path == "/api/v3/klines":
                status = self.storm_status
        if status is not None:
            asked = {"Retry-After": self.retry_after} if self.retry_after and status in (429, 503) else {}
            self._send(
                request, status, {"code": -1003 if status == 429 else -1001, "msg": f"fake fault {status}"}, asked
            )
            return
        if parsed.path == "/api/v3/time":
            self._send(request, 200, {"serverTime": self.now_ms})
        elif parsed.path == "/api/v3/exchangeInfo":
            body = {
                "timezone": "UTC",
                "serverTime": self.now_ms,
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [_symbol_info(m, self.account.market_rules(m.id)) for m in self.markets.values()],
            }
            self._send(request, 200, body)
        elif parsed.path == "/api/v3/klines":
            self._klines(request, query)
        elif parsed.path in QUOTES:
            self._quotes(request, parsed.path, query)
        else:
            self._send(request, 404, {"code": -1, "msg": f"no route {parsed.path}"})

    def _signed(self, request: BaseHTTPRequestHandler, path: str, query: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        payload = request.rfile.read(length).decode() if request.command == "POST" else query
        status, body = 200, None
        with self.lock:
            retry_after = self.too_many_requests.popleft() if self.too_many_requests else None
        if retry_after is not None:  # refused before it is read: nothing was booked
            msg = "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute."
            self._send(request, 429, {"code": -1003, "msg": msg}, {"Retry-After": str(retry_after)})
            return
        with self.lock:
            try:
                params = self.account.authenticate(request.headers, payload)
            except VenueError as error:
                self._send(request, error.status, {"code": error.code, "msg": error.msg})
                return
            self.requests.append((time.monotonic(), path, params))
            self.signed.append(f"{request.command} {path}")
            if self.hook is not None and self.hook("before", request.command, path):
                return  # lost on the way: the venue never handles it (the connection closes unanswered)
            try:
                body = self.account.route(request.command, path, params)
            except VenueError as error:  # handled: an error answer is an answer too
                status, body = error.status, {"code": error.code, "msg": error.msg}
            if self.hook is not None:
                self.hook("after", request.command, path)
            lost = (
                status == 200
                and request.command == "POST"
                and path == "/api/v3/order"
                and self.account.lost_answers > 0
            )
            if lost:
                self.account.lost_answers -= 1
        if lost:
            return  # booked, and the connection closes without an answer
        if status == 200 and request.command == "POST" and self.account.answer_delay:
            time.sleep(self.account.answer_delay)  # the order is booked; its answer misses the client's deadline
        with contextlib.suppress(OSError):  # the client gave up (timeout) or died: what was booked stands
            self._send(request, status, body)

    def _klines(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        market = self.markets.get(query.get("symbol", ""))
        step = INTERVALS_MS.get(query.get("interval", ""))
        if market is None or step is None:
            self._send(request, 400, {"code": -1121, "msg": "Invalid symbol or interval."})
            return
        limit = min(int(query.get("limit", 500)), MAX_LIMIT)
        start = int(query.get("startTime", 0))
        end = int(query.get("endTime", 2**62))
        # Binance answers the candles that opened by now, the newest one possibly still forming.
        rows = [c for c in market.candles if start <= c[0] <= end and c[0] <= self.now_ms][:limit]
        body = [[int(c[0]), *(f"{v:.8f}" for v in c[1:6]), int(c[0]) + step - 1, "0", 1, "0", "0", "0"] for c in rows]
        self._send(request, 200, body)

    def _quotes(self, request: BaseHTTPRequestHandler, path: str, query: dict[str, str]) -> None:
        wanted = query.get("symbol")
        with self.lock:
            symbols = [wanted] if wanted else [s for s in self.markets if s in self.account.price]
            if any(s not in self.markets or s not in self.account.price for s in symbols):
                self._send(request, 400, {"code": -1121, "msg": "Invalid symbol."})
                return
            if path == "/api/v3/depth":
                body: Any = self._depth(symbols[0], min(int(query.get("limit", 100)), 5000))
            else:
                tickers = [(self._ticker if path == "/api/v3/ticker/24hr" else self._book_ticker)(s) for s in symbols]
                body = tickers[0] if wanted else tickers
        self._send(request, 200, body)

    def _book_ticker(self, symbol: str) -> dict[str, Any]:
        bid, ask = self.account.quote(symbol)
        return {
            "symbol": symbol,
            "bidPrice": _s(bid),
            "bidQty": _s(BOOK_QTY),
            "askPrice": _s(ask),
            "askQty": _s(BOOK_QTY),
        }

    def _ticker(self, symbol: str) -> dict[str, Any]:
        """The rolling day's statistics from the candles opened in it, closing at the price now."""
        price = self.account.price[symbol]
        candles = self.markets[symbol].candles
        day = [c for c in candles if self.now_ms - DAY_MS < c[0] <= self.now_ms]
        before = [c for c in candles if c[0] <= self.now_ms - DAY_MS]
        open_ = _decimal(day[0][1]) if day else price
        volume = sum((_decimal(c[5]) for c in day), Decimal(0))
        quote_volume = sum((_decimal(c[5]) * _decimal(c[4]) for c in day), Decimal(0))
        return self._book_ticker(symbol) | {
            "priceChange": _s(price - open_),
            "priceChangePercent": f"{(price - open_) / open_ * 100:.3f}",
            "weightedAvgPrice": _s(quote_volume / volume if volume else price),
            "prevClosePrice": _s(_decimal(before[-1][4]) if before else open_),
            "lastPrice": _s(price),
            "lastQty": _s(Decimal(0)),
            "openPrice": _s(open_),
            "highPrice": _s(max([_decimal(c[2]) for c in day] + [price])),
            "lowPrice": _s(min([_decimal(c[3]) for c in day] + [price])),
            "volume": _s(volume),
            "quoteVolume": _s(quote_volume),
            "openTime": self.now_ms - DAY_MS,
            "closeTime": self.now_ms,
            "firstId": -1,
            "lastId": -1,
            "count": 0,
        }

    def _depth(self, symbol: str, limit: int) -> dict[str, Any]:
        bid, ask = self.account.quote(symbol)
        tick = self.account.market_rules(symbol).tick
        levels = range(min(limit, BOOK_LEVELS))
        return {
            "lastUpdateId": len(self.requests),
            "bids": [[_s(bid - i * tick), _s(BOOK_QTY)] for i in levels if bid - i * tick > 0],
            "asks": [[_s(ask + i * tick), _s(BOOK_QTY)] for i in levels],
        }

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


def _decimal(value: Amount) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _s(value: Decimal) -> str:
    return f"{value:.8f}"


def walk(start_ms: int, count: int, step_ms: int = MINUTE_MS, price: float = 100.0) -> list[list[float]]:
    """Return `count` well-formed candles from `start_ms`: a gentle deterministic zig-zag."""
    candles = []
    for i in range(count):
        open_ = price + (i % 7) * 0.5
        close = price + ((i + 3) % 7) * 0.5
        candles.append(
            [start_ms + i * step_ms, open_, max(open_, close) + 0.25, min(open_, close) - 0.25, close, 1.0 + i % 5]
        )
    return candles


STACK_BARS_SEED = 6  # of `crypto_regimes`: 5,600-74,000, daily sd 3.7%, the seed nearest BTC's 2017-2024 range


def seed_stack_datasets(objects: Any, stacks: tuple[str, ...] = ("staging", "prod")) -> list[str]:
    """Do what the stacks' market-data CronJob does: `data fetch` each of their datasets into `objects`.

    The fake venue serves 2,000 daily bars of `sample:crypto?regimes=1&seed=6` (BTC/USDT-like: BTC's price
    levels, daily volatility and trending regimes, from 2017-08-17) under each configured symbol, so gates on
    these stacks judge crypto bars at crypto prices. The stacks' sma_cross 10/30 candidate passes prod's gate
    on this seed (one of 4 of seeds 0-11 it passes on; the others fail on Sharpe, drawdown or robustness) and
    fails it on a random walk (`sample:crypto`): a test that needs a failing gate says which bars it gates on.
    Return the dataset refs written.
    """
    from infra.config import parse_stack_config
    from pipelines.infra.evaluate import stack_config

    from tradeops.data import load_bars
    from tradeops.data.datasets import DatasetStore
    from tradeops.data.fetch import FetchPolicy, fetch_dataset, open_exchange

    btc = load_bars(f"sample:crypto?regimes=1&seed={STACK_BARS_SEED}")
    stamps = btc.index.as_unit("ms").asi8
    candles = [
        [int(t), *(float(getattr(btc, f)[i, 0]) for f in ("open", "high", "low", "close", "volume"))]
        for i, t in enumerate(stamps)
    ]
    sources = {
        source.dataset: source
        for stack in stacks
        for source in parse_stack_config(stack_config(stack)["tradeops:settings"], stack).market_data.datasets
    }
    fake = FakeBinance()
    try:
        for source in sources.values():
            for symbol in source.symbols:
                base, quote = symbol.split("/")
                fake.add_market(base, quote, candles)
        fake.now_ms = int(stamps[-1]) + INTERVALS_MS["1d"]
        written = []
        for source in sources.values():
            report = fetch_dataset(
                DatasetStore(objects),
                open_exchange(source.exchange, base_url=fake.url),
                dataset=source.dataset,
                symbols=list(source.symbols),
                timeframe=source.timeframe,
                since=pd.Timestamp(int(stamps[0]), unit="ms").to_pydatetime(),
                policy=FetchPolicy(attempts=2, backoff_seconds=0.01),
            )
            written.append(report.manifest.ref)
        return written
    finally:
        fake.stop()
