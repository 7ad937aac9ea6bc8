"""The signed half of the fake Binance: a spot account with orders, fills, balances and open orders.

Speaks Binance's real REST format, as ccxt's `binance` sends and parses it: `X-MBX-APIKEY` plus an
HMAC-SHA256 `signature` over the query (GET/DELETE) or the form body (POST), a `timestamp` within
`recvWindow`; `POST/GET/DELETE /api/v3/order` (by `orderId` or `origClientOrderId`), `GET/DELETE
/api/v3/openOrders`, `GET /api/v3/account`, `GET /api/v3/myTrades`. The exchange filters
(LOT_SIZE, PRICE_FILTER, NOTIONAL) are enforced with Binance's error codes.

It does not deduplicate `newClientOrderId` (Binance only refuses one already open): every order it
accepted is kept, so a test counts duplicates by client order id. Test hooks: `price` per symbol
(where market orders fill), `fill_ratio` (a partial fill: a market order then EXPIRED, a limit order
stays open), `rejects` (the next orders answered with an error), `answer_delay` (the order is
accepted, then the answer comes too late for the client's deadline) and `on_order` (called with
"received" before and "accepted" after an order is booked: a test kills the client there).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

FEE_RATE = Decimal("0.001")  # Binance's standard spot taker and maker fee
STEP, TICK, MIN_NOTIONAL = Decimal("0.00001"), Decimal("0.01"), Decimal("5")
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")


class VenueError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _s(value: Decimal) -> str:
    return f"{value:.8f}"


@dataclass
class SpotAccount:
    """One API key's spot account; `pairs` maps a Binance symbol (BTCUSDT) to (base, quote)."""

    api_key: str = "fake-key"
    secret: str = "fake-secret"
    pairs: dict[str, tuple[str, str]] = field(default_factory=dict)
    balances: dict[str, Decimal] = field(default_factory=dict)  # free
    locked: dict[str, Decimal] = field(default_factory=dict)
    price: dict[str, Decimal] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)  # every order accepted, in order
    trades: list[dict[str, Any]] = field(default_factory=list)
    fill_ratio: Decimal = Decimal(1)
    rejects: deque[tuple[int, str]] = field(default_factory=deque)
    answer_delay: float = 0.0
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
        price = self.price[symbol] if kind == "MARKET" else Decimal(p.get("price", "0"))
        self._filters(quantity, price if kind == "LIMIT" else None, quantity * self.price[symbol])
        base, quote = self.pairs[symbol]
        spend, need = (quote, quantity * price * (1 + FEE_RATE)) if side == "BUY" else (base, quantity)
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
        self._match(order, need if side == "BUY" else quantity, spend)
        if self.on_order:
            self.on_order("accepted", p)
        return {**self._public(order), "transactTime": stamp, "fills": self._fills(order)}

    def _filters(self, quantity: Decimal, price: Decimal | None, notional: Decimal) -> None:
        if quantity < STEP or quantity % STEP:
            raise VenueError(400, -1013, "Filter failure: LOT_SIZE")
        if price is not None and (price <= 0 or price % TICK):
            raise VenueError(400, -1013, "Filter failure: PRICE_FILTER")
        if notional < MIN_NOTIONAL:
            raise VenueError(400, -1013, "Filter failure: NOTIONAL")

    def _match(self, order: dict[str, Any], reserve: Decimal, asset: str) -> None:
        """Fill what the book allows now (all, or `fill_ratio` of it); lock what rests."""
        symbol, side = order["symbol"], order["side"]
        market, limit = self.price[symbol], Decimal(order["price"])
        marketable = order["type"] == "MARKET" or (limit >= market if side == "BUY" else limit <= market)
        quantity = Decimal(order["origQty"])
        filled = (quantity * self.fill_ratio).quantize(STEP, rounding="ROUND_DOWN") if marketable else Decimal(0)
        if filled:
            self._trade(order, filled, market if order["type"] == "MARKET" else limit)
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
        if order["side"] == "BUY":  # Binance charges the fee in the asset received
            fee, fee_asset = quantity * FEE_RATE, base
            self.balances[quote] -= cost
            self.fund(base, quantity - fee)
        else:
            fee, fee_asset = cost * FEE_RATE, quote
            self.balances[base] -= quantity
            self.fund(quote, cost - fee)
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


def filters() -> list[dict[str, Any]]:
    """The exchangeInfo filters this account enforces."""
    return [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": _s(TICK)},
        {"filterType": "LOT_SIZE", "minQty": _s(STEP), "maxQty": "9000.00000000", "stepSize": _s(STEP)},
        {
            "filterType": "NOTIONAL",
            "minNotional": _s(MIN_NOTIONAL),
            "applyMinToMarket": True,
            "maxNotional": "9000000.00000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
    ]
