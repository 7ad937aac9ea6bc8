"""The signed half of the fake Binance: a spot account with orders, fills, balances and open orders.

Speaks Binance's real REST format, as ccxt's `binance` sends and parses it: `X-MBX-APIKEY` plus an
HMAC-SHA256 `signature` over the query (GET/DELETE) or the form body (POST), a `timestamp` within
`recvWindow`; `POST/GET/DELETE /api/v3/order` (by `orderId` or `origClientOrderId`), `GET/DELETE
/api/v3/openOrders`, `GET /api/v3/account`, `GET /api/v3/myTrades`. Each market's exchange filters
(`rules`: LOT_SIZE, PRICE_FILTER, NOTIONAL) are published in exchangeInfo and enforced exactly as
published, with Binance's error codes. The balance check is Binance's: an order needs what it spends
(quote for a buy, base for a sell), never its fee, which comes out of what it receives (or BNB).

It does not deduplicate `newClientOrderId` (Binance only refuses one already open): every order it
accepted is kept, so a test counts duplicates by client order id.

Switches a test sets (the defaults are a venue that agrees with the bar: no spread, no move, whole fills):
- `price[symbol]`: the venue's mid price; quotes and market fills derive from it.
- `rules[symbol]`: a `MarketRules` (step, tick, min_qty, min_notional; None omits that minimum).
- `spread_bps`: bid = price * (1 - spread/2), ask = price * (1 + spread/2), on the tick; buys fill at the ask.
- `move_bps`: the price moves this much (signed) between the quote and the fill of every order.
- `price_path`: (symbol, nth order of that symbol, from 0) -> multiplier of the touch at fill; see `seeded_path`.
- `fill_ratio`: a partial fill (a market order then EXPIRED, a limit order stays open).
- `rejects`: the next orders answered with these (code, message) errors.
- `answer_delay`: the order is booked, then its answer comes too late for the client's deadline.
- `lost_answers`: the next N booked orders get no answer at all (the connection closes).
- `fee_asset`: fees paid in this asset (BNB) at `THIRD_ASSET_FEE_RATE`, valued at `price[asset+quote]`;
  the received asset pays when that balance is short.
- `on_order`: called with "received" before and "accepted" after an order is booked (a test kills the client there).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

FEE_RATE = Decimal("0.001")  # Binance's standard spot taker and maker fee
THIRD_ASSET_FEE_RATE = Decimal("0.00075")  # Binance's rate when fees are paid with BNB (25% off)
STEP, TICK, MIN_NOTIONAL = Decimal("0.00001"), Decimal("0.01"), Decimal("5")
MAX_QTY, MAX_PRICE, MAX_NOTIONAL = Decimal("9000"), Decimal("1000000"), Decimal("9000000")
SATOSHI = Decimal("0.00000001")
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")


class VenueError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _s(value: Decimal) -> str:
    return f"{value:.8f}"


@dataclass(frozen=True)
class MarketRules:
    """One market's filters: lot `step`, price `tick`, and minimums (None: the venue publishes none)."""

    step: Decimal = STEP
    tick: Decimal = TICK
    min_qty: Decimal | None = STEP
    min_notional: Decimal | None = MIN_NOTIONAL

    def filters(self) -> list[dict[str, Any]]:
        """The exchangeInfo filters, as Binance words them; a None minimum is left out (ccxt reads None)."""
        lot: dict[str, Any] = {"filterType": "LOT_SIZE", "maxQty": _s(MAX_QTY), "stepSize": _s(self.step)}
        if self.min_qty is not None:
            lot["minQty"] = _s(self.min_qty)
        published = [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": _s(self.tick),
                "maxPrice": _s(MAX_PRICE),
                "tickSize": _s(self.tick),
            },
            lot,
        ]
        if self.min_notional is not None:
            published.append(
                {
                    "filterType": "NOTIONAL",
                    "minNotional": _s(self.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": _s(MAX_NOTIONAL),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                }
            )
        return published

    def check(self, kind: str, quantity: Decimal, price: Decimal) -> None:
        """Refuse what the published filters refuse (`price`: the limit, or the market price for a market order)."""
        if quantity <= 0 or quantity % self.step or quantity > MAX_QTY:
            raise VenueError(400, -1013, "Filter failure: LOT_SIZE")
        if self.min_qty is not None and quantity < self.min_qty:
            raise VenueError(400, -1013, "Filter failure: LOT_SIZE")
        if kind == "LIMIT" and (price < self.tick or price > MAX_PRICE or price % self.tick):
            raise VenueError(400, -1013, "Filter failure: PRICE_FILTER")
        notional = quantity * price
        if self.min_notional is not None and (
            notional < self.min_notional or (kind == "LIMIT" and notional > MAX_NOTIONAL)
        ):
            raise VenueError(400, -1013, "Filter failure: NOTIONAL")


def seeded_path(seed: int, max_bps: float) -> Callable[[str, int], Decimal]:
    """A `price_path` moving each fill a seeded random amount within +-`max_bps` of the touch (same seed, same path)."""

    def path(symbol: str, nth: int) -> Decimal:
        move = random.Random(f"{seed}:{symbol}:{nth}").uniform(-max_bps, max_bps)
        return 1 + Decimal(f"{move:.4f}") / 10_000

    return path


@dataclass
class SpotAccount:
    """One API key's spot account; `pairs` maps a Binance symbol (BTCUSDT) to (base, quote)."""

    api_key: str = "fake-key"
    secret: str = "fake-secret"
    pairs: dict[str, tuple[str, str]] = field(default_factory=dict)
    balances: dict[str, Decimal] = field(default_factory=dict)  # free
    locked: dict[str, Decimal] = field(default_factory=dict)
    price: dict[str, Decimal] = field(default_factory=dict)
    rules: dict[str, MarketRules] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)  # every order accepted, in order
    trades: list[dict[str, Any]] = field(default_factory=list)
    fill_ratio: Decimal = Decimal(1)
    rejects: deque[tuple[int, str]] = field(default_factory=deque)
    answer_delay: float = 0.0
    lost_answers: int = 0
    spread_bps: float = 0.0
    move_bps: float = 0.0
    price_path: Callable[[str, int], Decimal | float] | None = None
    fee_asset: str | None = None
    on_order: Callable[[str, dict[str, str]], None] | None = None
    ids: Any = field(default_factory=lambda: itertools.count(1))

    # -- test helpers -------------------------------------------------------------------
    def fund(self, asset: str, amount: float | str | Decimal) -> None:
        self.balances[asset] = self.balances.get(asset, Decimal(0)) + Decimal(str(amount))

    def by_client_id(self, client_id: str) -> list[dict[str, Any]]:
        return [o for o in self.orders if o["clientOrderId"] == client_id]

    def open_orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.orders if o["status"] in OPEN_STATUSES and symbol in (None, o["symbol"])]

    def total(self, asset: str) -> Decimal:
        return self.balances.get(asset, Decimal(0)) + self.locked.get(asset, Decimal(0))

    # -- the book -----------------------------------------------------------------------
    def market_rules(self, symbol: str) -> MarketRules:
        return self.rules.get(symbol) or MarketRules()

    def quote(self, symbol: str) -> tuple[Decimal, Decimal]:
        """The best bid and ask now: the price, or `spread_bps` around it on the market's tick."""
        price = self.price[symbol]
        if not self.spread_bps:
            return price, price
        half, tick = price * Decimal(str(self.spread_bps)) / 20_000, self.market_rules(symbol).tick
        return (price - half).quantize(tick, ROUND_FLOOR), (price + half).quantize(tick, ROUND_CEILING)

    def touch_at_fill(self, symbol: str, side: str) -> Decimal:
        """Where the book stands when an order arrives: the quote's side, moved by `price_path` or `move_bps`."""
        bid, ask = self.quote(symbol)
        touch = ask if side == "BUY" else bid
        if self.price_path is not None:
            nth = sum(order["symbol"] == symbol for order in self.orders)
            multiplier = Decimal(str(self.price_path(symbol, nth)))
        else:
            multiplier = 1 + Decimal(str(self.move_bps)) / 10_000
        if multiplier == 1:
            return touch
        return (touch * multiplier).quantize(self.market_rules(symbol).tick, ROUND_HALF_EVEN)

    # -- authentication -----------------------------------------------------------------
    def authenticate(self, headers: Any, payload: str) -> dict[str, str]:
        """Check key, signature and timestamp as Binance does; return the signed parameters."""
        from urllib.parse import parse_qsl

        if headers.get("X-MBX-APIKEY") != self.api_key:
            raise VenueError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        signed, _, signature = payload.rpartition("&signature=")
        expected = hmac.new(self.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(signature, expected):
            raise VenueError(400, -1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(signed, keep_blank_values=True))
        window = int(params.get("recvWindow", 5000))
        if abs(time.time() * 1000 - int(params.get("timestamp", 0))) > window:
            raise VenueError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return params

    # -- routes -------------------------------------------------------------------------
    def route(self, method: str, path: str, params: dict[str, str]) -> Any:
        routes: dict[tuple[str, str], Callable[[dict[str, str]], Any]] = {
            ("POST", "/api/v3/order"): self.new_order,
            ("GET", "/api/v3/order"): lambda p: self._public(self._find(p)),
            ("DELETE", "/api/v3/order"): self.cancel,
            ("GET", "/api/v3/openOrders"): lambda p: [self._public(o) for o in self.open_orders(p.get("symbol"))],
            ("DELETE", "/api/v3/openOrders"): self.cancel_all,
            ("GET", "/api/v3/account"): self.account,
            ("GET", "/api/v3/myTrades"): self.my_trades,
        }
        handler = routes.get((method, path))
        if handler is None:
            raise VenueError(404, -1, f"no route {method} {path}")
        return handler(params)

    def new_order(self, p: dict[str, str]) -> dict[str, Any]:
        if self.on_order:
            self.on_order("received", p)
        if self.rejects:
            code, msg = self.rejects.popleft()
            raise VenueError(400, code, msg)
        symbol, side, kind = p.get("symbol", ""), p.get("side", ""), p.get("type", "")
        if symbol not in self.pairs:
            raise VenueError(400, -1121, "Invalid symbol.")
        if side not in ("BUY", "SELL") or kind not in ("MARKET", "LIMIT"):
            raise VenueError(400, -1102, "Mandatory parameter 'side' or 'type' was not sent or is invalid.")
        quantity = Decimal(p.get("quantity", "0"))
        touch = self.touch_at_fill(symbol, side)
        price = touch if kind == "MARKET" else Decimal(p.get("price", "0"))
        # a market order's NOTIONAL is judged at the venue's (average) price, a limit order's at its limit
        self.market_rules(symbol).check(kind, quantity, self.price[symbol] if kind == "MARKET" else price)
        base, quote = self.pairs[symbol]
        spend, need = (quote, quantity * price) if side == "BUY" else (base, quantity)
        if self.balances.get(spend, Decimal(0)) < need:
            raise VenueError(400, -2010, "Account has insufficient balance for requested action.")
        stamp = int(time.time() * 1000)
        order = {
            "symbol": symbol,
            "orderId": next(self.ids),
            "orderListId": -1,
            "clientOrderId": p.get("newClientOrderId") or f"fake{stamp}",
            "price": _s(price if kind == "LIMIT" else Decimal(0)),
            "origQty": _s(quantity),
            "executedQty": _s(Decimal(0)),
            "cummulativeQuoteQty": _s(Decimal(0)),
            "status": "NEW",
            "timeInForce": p.get("timeInForce", "GTC"),
            "type": kind,
            "side": side,
            "time": stamp,
            "updateTime": stamp,
            "workingTime": stamp,
            "isWorking": True,
            "origQuoteOrderQty": _s(Decimal(0)),
            "selfTradePreventionMode": "NONE",
        }
        self.orders.append(order)
        self._match(order, touch, need, spend)
        if self.on_order:
            self.on_order("accepted", p)
        return {**self._public(order), "transactTime": stamp, "fills": self._fills(order)}

    def _match(self, order: dict[str, Any], touch: Decimal, reserve: Decimal, asset: str) -> None:
        """Fill what the book allows now at `touch` (all, or `fill_ratio` of it); lock what rests."""
        side, limit = order["side"], Decimal(order["price"])
        marketable = order["type"] == "MARKET" or (limit >= touch if side == "BUY" else limit <= touch)
        quantity = Decimal(order["origQty"])
        step = self.market_rules(order["symbol"]).step
        filled = (quantity * self.fill_ratio).quantize(step, rounding=ROUND_DOWN) if marketable else Decimal(0)
        if filled:
            self._trade(order, filled, touch)  # a marketable limit takes the book at its price, not at the limit
        if order["type"] == "MARKET" or order["timeInForce"] in ("IOC", "FOK"):
            order["status"] = "FILLED" if filled == quantity else "EXPIRED"
            order["isWorking"] = False
            return
        order["status"] = "FILLED" if filled == quantity else ("PARTIALLY_FILLED" if filled else "NEW")
        if order["status"] != "FILLED":
            rest = reserve * (quantity - filled) / quantity
            self.balances[asset] -= rest
            self.locked[asset] = self.locked.get(asset, Decimal(0)) + rest
            order["_locked"] = rest

    def _trade(self, order: dict[str, Any], quantity: Decimal, price: Decimal) -> None:
        base, quote = self.pairs[order["symbol"]]
        cost = quantity * price
        if order["side"] == "BUY":
            self.balances[quote] -= cost
            received, amount = base, quantity
        else:
            self.balances[base] -= quantity
            received, amount = quote, cost
        fee, fee_asset = self._fee(quote, cost, received, amount)
        self.fund(received, amount - fee if fee_asset == received else amount)
        order["executedQty"] = _s(Decimal(order["executedQty"]) + quantity)
        order["cummulativeQuoteQty"] = _s(Decimal(order["cummulativeQuoteQty"]) + cost)
        self.trades.append(
            {
                "symbol": order["symbol"],
                "id": len(self.trades) + 1,
                "orderId": order["orderId"],
                "orderListId": -1,
                "price": _s(price),
                "qty": _s(quantity),
                "quoteQty": _s(cost),
                "commission": _s(fee),
                "commissionAsset": fee_asset,
                "time": int(time.time() * 1000),
                "isBuyer": order["side"] == "BUY",
                "isMaker": False,
                "isBestMatch": True,
            }
        )

    def _fee(self, quote: str, cost: Decimal, received: str, amount: Decimal) -> tuple[Decimal, str]:
        """Binance's fee: in `fee_asset` when that balance covers it (charged here), else from what was received."""
        rate = self.price.get(f"{self.fee_asset}{quote}") if self.fee_asset else None
        if self.fee_asset and rate:
            fee = (cost * THIRD_ASSET_FEE_RATE / rate).quantize(SATOSHI, ROUND_CEILING)
            if self.balances.get(self.fee_asset, Decimal(0)) >= fee:
                self.balances[self.fee_asset] -= fee
                return fee, self.fee_asset
        return amount * FEE_RATE, received

    def _fills(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "price": t["price"],
                "qty": t["qty"],
                "commission": t["commission"],
                "commissionAsset": t["commissionAsset"],
            }
            | {"tradeId": t["id"]}
            for t in self.trades
            if t["orderId"] == order["orderId"]
        ]

    def _find(self, p: dict[str, str]) -> dict[str, Any]:
        found = [
            o
            for o in self.orders
            if o["symbol"] == p.get("symbol")
            and (str(o["orderId"]) == p.get("orderId") or o["clientOrderId"] == p.get("origClientOrderId"))
        ]
        if not found:
            raise VenueError(400, -2013, "Order does not exist.")
        return found[-1]

    def cancel(self, p: dict[str, str]) -> dict[str, Any]:
        order = self._find(p)
        if order["status"] not in OPEN_STATUSES:
            raise VenueError(400, -2011, "Unknown order sent.")
        base, quote = self.pairs[order["symbol"]]
        asset = quote if order["side"] == "BUY" else base
        rest = order.pop("_locked", Decimal(0))
        self.locked[asset] -= rest
        self.fund(asset, rest)
        order["status"], order["isWorking"] = "CANCELED", False
        return self._public(order)

    def cancel_all(self, p: dict[str, str]) -> list[dict[str, Any]]:
        if p.get("symbol") not in self.pairs:
            raise VenueError(400, -1121, "Invalid symbol.")
        return [
            self.cancel({"symbol": o["symbol"], "orderId": str(o["orderId"])}) for o in self.open_orders(p["symbol"])
        ]

    def account(self, p: dict[str, str]) -> dict[str, Any]:
        assets = sorted(set(self.balances) | set(self.locked))
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "updateTime": int(time.time() * 1000),
            "accountType": "SPOT",
            "balances": [
                {"asset": a, "free": _s(self.balances.get(a, Decimal(0))), "locked": _s(self.locked.get(a, Decimal(0)))}
                for a in assets
            ],
            "permissions": ["SPOT"],
        }

    def my_trades(self, p: dict[str, str]) -> list[dict[str, Any]]:
        return [
            t
            for t in self.trades
            if t["symbol"] == p.get("symbol") and ("orderId" not in p or str(t["orderId"]) == p["orderId"])
        ]

    @staticmethod
    def _public(order: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in order.items() if not key.startswith("_")}
