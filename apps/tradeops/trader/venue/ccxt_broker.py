"""The venue broker: spot orders through ccxt, each under a client order id that makes it happen once.

`execute` first asks the venue for the order's client order id (a restart or a retry finds the
order it already sent), sends it only when the venue has never seen it, and reads the fills and
fees back from the venue's trades (never assumed). The venue's precision and minimums (ccxt's
market limits) are applied before sending; an order below them is not sent. A timeout after the
venue accepted the order is resolved by looking the client order id up, never by sending again.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from tradeops.errors import VenueError
from tradeops.trader.broker import CLOSE, OPEN_LONG, OPEN_SHORT, Account, ClosedTrade, Execution, Order, Proposal
from tradeops.trader.venue.exchange import Deadline, retrying

ORDER_TYPES = ("market", "limit")
PRICE_BUFFER = 0.005  # an order's limit is 0.5% past the quote: room for fees' rounding and movement until it fills


def client_order_id(order: Order) -> str:
    """The id the venue keys the order by: a hash of (session, bar, symbol, n) and the intent.

    32 characters of [0-9a-z] after a `t` (Binance allows `^[.A-Z:/a-z0-9_-]{1,36}$`; most venues
    accept letters and digits up to 32-36); the same order always gets the same id.
    """
    return "t" + hashlib.sha256(f"{order.id}|{order.intent}".encode()).hexdigest()[:31]


@dataclass(frozen=True)
class Fill:
    """What the venue's trades of one order add up to."""

    size: float
    cost: float
    base_fee: float  # fee taken from the base asset (Binance's spot rule for a buy)
    quote_fee: float
    other_fees: dict[str, float] = field(default_factory=dict)  # fees in other assets (BNB), per asset
    other_value: float = 0.0  # those fees valued in the quote asset at fill time

    @property
    def price(self) -> float:
        return self.cost / self.size if self.size else 0.0


class CcxtBroker:
    """Trades spot on one ccxt exchange; `symbols` maps the session's symbols to the venue's (BTC/USDT)."""

    name = "ccxt"
    remote = True  # the trader records an order's intent in its own transaction before sending

    def __init__(
        self,
        exchange: Any,
        *,
        symbols: Mapping[str, str] | None = None,
        fraction: float = 1.0,
        slippage: float = 0.0,
        order_type: str = "market",
        price_buffer: float = PRICE_BUFFER,
        fill_wait_seconds: float = 5.0,
        deadline: Deadline | None = None,
    ) -> None:
        if order_type not in ORDER_TYPES:
            raise VenueError(f"broker order type {order_type!r}: one of {', '.join(ORDER_TYPES)}")
        self.exchange = exchange
        self.symbols = dict(symbols or {})
        self.fraction, self.slippage, self.order_type = fraction, slippage, order_type
        self.buffer = max(slippage, price_buffer)  # how far past the quote an order may fill (its limit)
        self.fill_wait_seconds = fill_wait_seconds
        self.deadline = deadline or Deadline()
        self._done: dict[str, Execution] = {}
        self._markets: dict[str, Any] | None = None

    # -- the venue's markets ----------------------------------------------------------------
    def venue_symbol(self, symbol: str) -> str:
        return self.symbols.get(symbol, symbol)

    def market(self, symbol: str) -> dict[str, Any]:
        if self._markets is None:
            self._markets = retrying("load the venue's markets", self.exchange.load_markets, self.deadline)
        venue = self.venue_symbol(symbol)
        if venue not in self._markets:
            raise VenueError(f"{symbol}: the venue has no spot market {venue!r}")
        return dict(self._markets[venue])

    def _dust(self, market: dict[str, Any]) -> float:
        """The largest position that cannot be sold: below the venue's minimum amount or one amount step
        (either may be None: then only nothing at all is flat)."""
        minimum = market.get("limits", {}).get("amount", {}).get("min") or 0.0
        step = market.get("precision", {}).get("amount") if self._tick_precision() else None
        return max(float(minimum), float(step or 0.0))

    def _tick_precision(self) -> bool:
        import ccxt

        return bool(getattr(self.exchange, "precisionMode", None) == ccxt.TICK_SIZE)

    def is_flat(self, symbol: str, position: float) -> bool:
        """A position below the venue's smallest sellable amount (fee dust) cannot be sold: it counts as flat."""
        return position == 0 or abs(position) < self._dust(self.market(symbol))

    def fee_rate(self, symbol: str) -> float:
        """The venue's taker fee for `symbol`, as a fraction of notional (0 when the market does not say)."""
        return float(self.market(symbol).get("taker") or 0.0)

    def quote(self, symbol: str, side: str) -> float | None:
        """A fresh price to size at: the ask to buy, the bid to sell (the last trade when the book side is empty);
        None when the venue has no ticker."""
        if not getattr(self.exchange, "has", {}).get("fetchTicker"):
            return None
        venue = self.venue_symbol(symbol)
        ticker = retrying(f"read the {venue} quote", partial(self.exchange.fetch_ticker, venue), self.deadline)
        price = ticker.get("ask" if side == "buy" else "bid") or ticker.get("last")
        return float(price) if price else None

    def working(self, symbol: str) -> set[str]:
        """The client order ids the venue still works on `symbol` (the duplicate guard's input)."""
        venue = self.venue_symbol(symbol)
        opened = retrying(
            f"read the open orders on {venue}", partial(self.exchange.fetch_open_orders, venue), self.deadline
        )
        return {str(o.get("clientOrderId")) for o in opened if o.get("clientOrderId")}

    # -- before sending ---------------------------------------------------------------------
    def propose(self, order: Order, account: Account, *, price: float, max_size: float) -> Proposal | None:
        """The order as it would be sent (a fresh quote, venue precision and minimums applied), or None."""
        plan = self.plan(order, account, price=price, max_size=max_size)
        return plan if isinstance(plan, Proposal) else None

    def plan(self, order: Order, account: Account, *, price: float, max_size: float) -> Proposal | str:
        """The order as `place` sends it, or why nothing would be sent.

        An entry is sized at a fresh quote (the ask) raised by `buffer` for movement, with the taker fee on top,
        and sent with that price as its limit (a market order becomes an immediate-or-cancel limit: price
        protection), so its cost with fees can never exceed the account's free cash. `price` (the bar's) is
        used only when the venue has no ticker.
        """
        if order.intent == OPEN_SHORT:
            return "spot venue: cannot sell short"
        market = self.market(order.symbol)
        venue = self.venue_symbol(order.symbol)
        if order.intent == CLOSE:
            if self.is_flat(order.symbol, account.position):
                return "nothing to close"
            side, wanted = "sell", account.position
            quoted = self.quote(order.symbol, side) or price
            limit = quoted * (1 - self.buffer)
        elif order.intent == OPEN_LONG:
            if not self.is_flat(order.symbol, account.position):
                return "position not flat"
            side = "buy"
            limit = self.entry_limit(order.symbol, self.quote(order.symbol, side) or price)
            wanted = min(max_size, account.free_cash * self.fraction / (limit * (1 + self.fee_rate(order.symbol))))
        else:
            return f"unknown intent {order.intent!r}"
        if side == "sell" and self.order_type == "limit":
            limit = self._price(order.symbol, limit, side)
        size = self._amount(venue, wanted)
        notional = size * limit
        limits = market["limits"]
        minimum = limits["amount"]["min"]
        if size <= 0 or (minimum is not None and size < float(minimum)):
            return f"below the venue's minimum amount ({minimum if minimum is not None else 'one amount step'})"
        if limits["cost"]["min"] and notional < float(limits["cost"]["min"]):
            return f"below the venue's minimum notional ({limits['cost']['min']})"
        return Proposal(order, side, size, limit, notional)

    def entry_limit(self, symbol: str, quote: float) -> float:
        """An entry's limit: `quote` (the ask) raised by the buffer, rounded down to the venue's tick."""
        return self._price(symbol, quote * (1 + self.buffer), "buy")

    def _price(self, symbol: str, limit: float, side: str) -> float:
        """`limit` at the venue's price precision, never rounded against the session (down to buy, up to sell)."""
        import math

        step = self.market(symbol).get("precision", {}).get("price")
        venue = self.venue_symbol(symbol)
        if step and self._tick_precision():
            ticks = limit / float(step)
            limit = (math.floor(ticks + 1e-9) if side == "buy" else math.ceil(ticks - 1e-9)) * float(step)
        return float(self.exchange.price_to_precision(venue, limit))

    def _amount(self, venue: str, wanted: float) -> float:
        """`wanted` at the venue's amount precision (truncated); 0 when that leaves nothing (ccxt refuses it)."""
        import ccxt

        if wanted <= 0:
            return 0.0
        try:
            return float(self.exchange.amount_to_precision(venue, wanted))
        except ccxt.InvalidOrder:  # truncated to 0 at the venue's precision: below its minimum amount
            return 0.0

    # -- sending ----------------------------------------------------------------------------
    def lookup(self, order_id: str) -> Execution | None:
        """The execution this process already recorded; the venue itself is asked inside `execute`."""
        return self._done.get(order_id)

    def execute(self, order: Order, account: Account, *, price: float, bar: int, max_size: float) -> Execution:
        """Send the order once (found at the venue by its client order id if sent before), then read its fills."""
        found = self.recover(order, account, bar=bar)
        if found is not None:
            return found
        plan = self.plan(order, account, price=price, max_size=max_size)
        if isinstance(plan, str):
            return Execution(False, account, reason=plan)
        return self.place(plan, account, bar=bar)

    def place(self, plan: Proposal, account: Account, *, bar: int) -> Execution:
        """Send exactly `plan` (see `plan`) under its client order id, settle it and read its fills."""
        order = plan.order
        stop = time.monotonic() + self.deadline.order_seconds
        symbol, cid = self.venue_symbol(order.symbol), client_order_id(order)
        placed = self._send(plan, symbol, cid, stop)
        if isinstance(placed, str):
            return Execution(False, account, reason=placed)
        placed = self._settle(placed, symbol, cid, stop)
        done = self._account_after(order, account, self._fills(symbol, placed, stop), bar, placed)
        self._done[order.id] = done
        return done

    def recover(self, order: Order, account: Account, *, bar: int) -> Execution | None:
        """The execution of an order sent before, read from the venue; None when the venue never saw it."""
        stop = time.monotonic() + self.deadline.order_seconds
        symbol, cid = self.venue_symbol(order.symbol), client_order_id(order)
        placed = self._find(symbol, cid, stop)
        if placed is None:
            return None
        placed = self._settle(placed, symbol, cid, stop)
        done = self._account_after(order, account, self._fills(symbol, placed, stop), bar, placed)
        self._done[order.id] = done
        return done

    def _find(self, symbol: str, cid: str, stop: float) -> dict[str, Any] | None:
        import ccxt

        try:
            return retrying(
                f"look up order {cid}",
                lambda: self.exchange.fetch_order(None, symbol, params={"clientOrderId": cid}),
                self.deadline,
                until=stop,
            )
        except ccxt.OrderNotFound:
            return None

    def _send(self, plan: Proposal, symbol: str, cid: str, stop: float) -> dict[str, Any] | str:
        """Place the order; after a timeout look it up by client order id and send again only if the venue lacks it."""
        import ccxt

        protected = plan.side == "buy" and self.order_type == "market"  # a market buy capped at its limit: IOC
        kind = "limit" if protected or self.order_type == "limit" else "market"
        params = {"newClientOrderId": cid} | ({"timeInForce": "IOC"} if protected else {})
        limit = plan.price if kind == "limit" else None
        while True:
            try:
                return self.exchange.create_order(symbol, kind, plan.side, plan.size, limit, params=params)
            except ccxt.AuthenticationError as error:
                raise VenueError(f"order {cid}: the venue refused the API key: {error}") from None
            except (ccxt.NetworkError, ccxt.ExchangeNotAvailable):
                if time.monotonic() >= stop:
                    raise VenueError(
                        f"order {cid}: no answer from the venue within {self.deadline.order_seconds:g}s; its intent "
                        "is recorded and the next start finds it by its client order id"
                    ) from None
                found = self._find(symbol, cid, stop)
                if found is not None:
                    return found
                time.sleep(self.deadline.backoff_seconds)
            except ccxt.ExchangeError as error:  # the venue refused it: filters, balance, symbol, ...
                return f"venue rejected: {error}"

    def _settle(self, placed: dict[str, Any], symbol: str, cid: str, stop: float) -> dict[str, Any]:
        """A resting limit order waits up to `fill_wait_seconds`, then its rest is cancelled and its end read."""
        import ccxt

        wait_until = min(stop, time.monotonic() + self.fill_wait_seconds)
        while placed.get("status") == "open" and time.monotonic() < wait_until:
            time.sleep(min(0.2, self.fill_wait_seconds))
            placed = self._find(symbol, cid, stop) or placed
        if placed.get("status") == "open":
            with contextlib.suppress(ccxt.OrderNotFound):  # filled or cancelled meanwhile: the state below says
                retrying(
                    f"cancel the rest of {cid}",
                    lambda: self.exchange.cancel_order(placed["id"], symbol),
                    self.deadline,
                    until=stop,
                )
            placed = self._find(symbol, cid, stop) or placed
        return placed

    def _fills(self, symbol: str, placed: dict[str, Any], stop: float) -> Fill:
        """The order's trades through ccxt's unified API (by order id), and their fees in whatever asset charged."""
        read: Callable[[], list[Any]]
        if getattr(self.exchange, "has", {}).get("fetchOrderTrades"):
            read = partial(self.exchange.fetch_order_trades, placed["id"], symbol)
        else:  # the account's trades on the market since the order, filtered by its id
            mine = partial(self.exchange.fetch_my_trades, symbol, placed.get("timestamp"))
            read = lambda: [t for t in mine() if str(t.get("order")) == str(placed["id"])]  # noqa: E731
        trades = retrying(f"read the fills of {placed.get('clientOrderId')}", read, self.deadline, until=stop)
        base, quote = self.market_assets(symbol)
        size = sum(float(t["amount"]) for t in trades)
        cost = sum(float(t["cost"]) for t in trades)
        charged: dict[str, float] = {}
        for trade in trades:
            for fee in trade.get("fees") or ([trade["fee"]] if trade.get("fee") else []):
                if fee and fee.get("cost"):
                    charged[fee["currency"]] = charged.get(fee["currency"], 0.0) + float(fee["cost"])
        others = {asset: amount for asset, amount in charged.items() if asset not in (base, quote)}
        value = sum(amount * self._value(asset, quote) for asset, amount in others.items())
        return Fill(size, cost, charged.get(base, 0.0), charged.get(quote, 0.0), others, value)

    def _value(self, asset: str, quote: str) -> float:
        """What one unit of `asset` is worth in `quote` now (a fee charged in BNB, valued at fill time)."""
        pair = f"{asset}/{quote}"
        if self._markets is None or pair not in self._markets:
            return 0.0  # no market to value it on: the amount is still booked, in its own asset
        ticker = retrying(f"read the {pair} price", partial(self.exchange.fetch_ticker, pair), self.deadline)
        return float(ticker.get("last") or ticker.get("bid") or 0.0)

    def market_assets(self, venue_symbol: str) -> tuple[str, str]:
        base, _, quote = venue_symbol.partition("/")
        return base, quote.split(":")[0]

    @staticmethod
    def _account_after(order: Order, account: Account, fill: Fill, bar: int, placed: dict[str, Any]) -> Execution:
        if fill.size <= 0:
            return Execution(False, account, reason=f"venue: {placed.get('status')} with nothing filled")
        fees = fill.quote_fee + fill.base_fee * fill.price + fill.other_value
        others = fill.other_fees or None
        if order.intent != CLOSE:
            cash = account.cash - fill.cost - fill.quote_fee
            after = replace(
                account,
                cash=cash,
                free_cash=cash,
                position=account.position + fill.size - fill.base_fee,
                entry_bar=bar,
                entry_price=fill.price,
                entry_fees=fees,
                cash_before=account.cash,
            )
            return Execution(True, after, fill.price, fill.size, fees, other_fees=others)
        cash = account.cash + fill.cost - fill.quote_fee
        after = replace(account, cash=cash, free_cash=cash, position=account.position - fill.size - fill.base_fee)
        closed = ClosedTrade(
            entry_bar=account.entry_bar,
            entry_price=account.entry_price,
            exit_bar=bar,
            exit_price=fill.price,
            size=fill.size,
            pnl=cash - account.cash_before - fill.other_value,
            fees=account.entry_fees + fees,
        )
        return Execution(True, after, fill.price, fill.size, fees, closed=closed, other_fees=others)

    # -- what reconciliation and the kill switch ask --------------------------------------
    def assets(self, symbols: list[str]) -> dict[str, tuple[str, str]]:
        """Each session symbol's (base, quote) asset at the venue."""
        return {symbol: self.market_assets(self.venue_symbol(symbol)) for symbol in symbols}

    def snapshot(self, symbols: list[str], *, extra: Sequence[str] = ()) -> Any:
        """The venue's total balances (every asset the account holds, and the session's markets' and `extra`'s
        even at zero) and the open orders on the session's markets."""
        from tradeops.trader.venue.reconcile import VenueSnapshot

        balance = retrying("read the venue's balances", self.exchange.fetch_balance, self.deadline)
        wanted = {asset for pair in self.assets(symbols).values() for asset in pair} | set(extra)
        held = {asset for asset, amount in (balance.get("total") or {}).items() if amount}  # the account's other money
        totals = {asset: float(balance.get("total", {}).get(asset) or 0.0) for asset in sorted(wanted | held)}
        opened = []
        for symbol in symbols:
            venue = self.venue_symbol(symbol)
            for order in retrying(
                f"read the open orders on {venue}", partial(self.exchange.fetch_open_orders, venue), self.deadline
            ):
                opened.append(
                    {
                        "client_id": order.get("clientOrderId"),
                        "symbol": venue,
                        "side": order.get("side"),
                        "amount": float(order.get("amount") or 0.0),
                        "filled": float(order.get("filled") or 0.0),
                    }
                )
        return VenueSnapshot(totals, opened)

    def cancel_all(self, symbols: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Cancel every open order on the session's markets; report what was cancelled and what was not."""
        import ccxt

        cancelled: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for symbol in symbols:
            venue = self.venue_symbol(symbol)
            try:
                opened = retrying(
                    f"read the open orders on {venue}",
                    partial(self.exchange.fetch_open_orders, venue),
                    self.deadline,
                )
            except VenueError as error:
                failed.append({"symbol": venue, "client_id": None, "error": str(error)})
                continue
            for order in opened:
                entry = {"symbol": venue, "client_id": order.get("clientOrderId"), "id": order.get("id")}
                try:
                    retrying(
                        f"cancel {entry['client_id']}",
                        partial(self.exchange.cancel_order, order["id"], venue),
                        self.deadline,
                    )
                    cancelled.append(entry)
                except (VenueError, ccxt.ExchangeError) as error:
                    failed.append(entry | {"error": str(error)})
        return {"cancelled": cancelled, "failed": failed}
