"""Brokers: where orders become fills. The paper broker fills exactly as the backtest engine does.

A broker executes one order against one symbol's account at a price. The paper broker calls the
engine's own compiled order functions (`tradeops.engine.orders` through the kernel's open and close,
with the same fees, slippage, sizing and unit granularity), so a paper session and a backtest on the
same bars cannot differ.

The venue broker (trader/venue/ccxt_broker.py) implements the same `Broker` protocol over ccxt: it
sends the order under a client order id derived from `Order.id` (stable across restarts), finds an
order it sent before a crash by that id instead of sending it twice, and returns the account as the
venue's fills make it. See docs/trader.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from tradeops.engine import kernel, orders, sizing
from tradeops.engine.settings import ExecutionSettings

OPEN_LONG, OPEN_SHORT, CLOSE = "open_long", "open_short", "close"


@dataclass(frozen=True)
class Account:
    """One symbol's account, as the engine keeps it, plus the open trade's entry."""

    cash: float
    position: float = 0.0
    debt: float = 0.0
    free_cash: float = 0.0
    entry_bar: int = -1
    entry_price: float = 0.0
    entry_fees: float = 0.0
    cash_before: float = 0.0

    @classmethod
    def opening(cls, cash: float) -> Account:
        return cls(cash=cash, free_cash=cash)


@dataclass(frozen=True)
class Order:
    """What the trader asks for: open a side, or close whatever is open."""

    id: str  # the client order id
    symbol: str
    intent: str  # open_long | open_short | close


@dataclass(frozen=True)
class Proposal:
    """An order as the broker would send it: the pre-trade checks judge this before anything is sent."""

    order: Order
    side: str  # "buy" | "sell"
    size: float  # units, positive, sized exactly as `execute` would size them
    price: float  # the price the broker expects to pay or receive per unit (its slippage included)
    notional: float  # size * price, in cash


@dataclass(frozen=True)
class ClosedTrade:
    entry_bar: int
    entry_price: float
    exit_bar: int
    exit_price: float
    size: float
    pnl: float
    fees: float


@dataclass(frozen=True)
class Execution:
    """The outcome of one order: filled (with price, size, fees) or not (with the reason)."""

    filled: bool
    account: Account
    price: float | None = None
    size: float | None = None
    fees: float | None = None
    reason: str | None = None
    closed: ClosedTrade | None = None
    rejected: bool = False  # refused before it reached the venue (recorded `rejected`, not `unfilled`)
    other_fees: dict[str, float] | None = None  # fees charged in an asset that is not the market's (BNB), per asset


class Broker(Protocol):
    """Executes orders; the paper broker and live adapters implement it."""

    name: str

    def execute(self, order: Order, account: Account, *, price: float, bar: int, max_size: float) -> Execution: ...

    def propose(self, order: Order, account: Account, *, price: float, max_size: float) -> Proposal | None:
        """The order `execute` would send with the same arguments, sized as it would size it; None when
        nothing would be sent (nothing to close, position not flat, no cash). Sends nothing."""
        ...

    def lookup(self, order_id: str) -> Execution | None:
        """The execution of an order sent before a restart, or None if the broker never saw it."""
        ...


class PaperBroker:
    """Fills at the given price with the engine's fees, slippage, sizing and granularity."""

    name = "paper"

    def __init__(self, settings: ExecutionSettings) -> None:
        """Fill with `settings`; give them with the market's units (`sizing.for_bars`) — unset units are whole."""
        self.fees = float(settings.commission)
        self.slippage = float(settings.slippage)
        self.fraction = float(settings.fraction)
        self.granularity = sizing.lot_code(settings.lot_size if settings.lot_size is not None else sizing.WHOLE_UNITS)
        self.minimum = sizing.lot_code(settings.min_size)

    def lookup(self, order_id: str) -> Execution | None:
        return None  # paper fills live only in the ledger, which a crash rolls back with the order

    def propose(self, order: Order, account: Account, *, price: float, max_size: float) -> Proposal | None:
        done = self.execute(order, account, price=price, bar=account.entry_bar, max_size=max_size)  # pure: a dry run
        if not done.filled or done.size is None or done.price is None:
            return None
        side = "buy" if done.account.position > account.position else "sell"
        return Proposal(order, side, abs(done.size), done.price, abs(done.size) * done.price)

    def execute(self, order: Order, account: Account, *, price: float, bar: int, max_size: float) -> Execution:
        state = orders.AccountState(account.cash, account.position, account.debt, account.free_cash)
        if order.intent == CLOSE:
            if account.position == 0:
                return Execution(False, account, reason="nothing to close")
            state, result = kernel._close(state, price, self.fees, self.slippage, self.granularity)
        else:
            if account.position != 0:
                return Execution(False, account, reason="position not flat")
            is_long = order.intent == OPEN_LONG
            state, result = kernel._open(
                state, price, is_long, self.fees, self.slippage, self.granularity, self.fraction, max_size, self.minimum
            )
        if result.status != orders.FILLED:
            return Execution(False, account, reason=orders.REASON_WORDS[result.reason])
        after = replace(account, cash=state.cash, position=state.position, debt=state.debt, free_cash=state.free_cash)
        if order.intent == CLOSE:
            size, entry_fees, pnl = account.position, account.entry_fees, state.cash - account.cash_before
            if state.position != 0:  # a short covered in part (the cash ran short), as the engine books it
                size, entry_fees, pnl = kernel.covered_part(account.position, account.entry_price, entry_fees, result)
                rest_fees = account.entry_fees - entry_fees
                after = replace(after, cash_before=account.cash_before + pnl, entry_fees=rest_fees)
            closed = ClosedTrade(
                entry_bar=account.entry_bar,
                entry_price=account.entry_price,
                exit_bar=bar,
                exit_price=result.price,
                size=size,
                pnl=pnl,
                fees=entry_fees + result.fees,
            )
            return Execution(True, after, result.price, result.size, result.fees, closed=closed)
        after = replace(
            after, entry_bar=bar, entry_price=result.price, entry_fees=result.fees, cash_before=account.cash
        )
        return Execution(True, after, result.price, result.size, result.fees)
