"""Pre-trade checks: every order, paper or venue, is judged here just before the broker sends it.

`check` is a pure function of the order as the broker would send it (a `Proposal`), the session's
limits and a `Context`; it returns the first limit the order breaks, or None. An order over a limit
is rejected, never resized (the entry sizing under max_position_notional is the broker's, before this).

Which checks apply to which orders:
- every order: the duplicate guard (an order whose client id is still working at the venue is always
  refused; with duplicate_window_seconds, so is another order with the symbol, side and size of one
  sent that recently; the same order sent again after a failed send is a retry, not a duplicate: the
  broker's `lookup` already told the loop the venue never saw it),
  max_orders_per_minute and price_collar_pct;
- entries only (orders that add exposure): max_order_notional, max_position_notional,
  max_total_notional and require_balance. A close only reduces exposure, so a notional limit never
  traps a position the trader must leave.

max_orders_per_minute counts wall-clock time, not bar time: what it guards against is a runaway loop
or a replay of old bars flooding a venue, and a venue's rate limits are in wall-clock seconds. A
replay at full speed therefore meets it; a live feed of minute bars or slower never should.

`PretradeGuard` is the loop's side of it: it builds the context from the ledger, records what was
sent, and audits and announces every rejection; `rejection_burst` rejections within
`rejection_window_bars` bars become a breach that moves the session to HALTED.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.notify.base import Message
from tradeops.store.models import TraderOrderRow
from tradeops.trader.broker import CLOSE, Proposal
from tradeops.trader.control import HALTED
from tradeops.trader.risk import Breach, RiskLimits

LIMITS = (
    "duplicate_order",
    "max_orders_per_minute",
    "price_collar_pct",
    "max_order_notional",
    "max_position_notional",
    "max_total_notional",
    "require_balance",
)
PREFIXES = tuple(f"{name}:" for name in LIMITS)  # a rejection's reason starts with its limit's name
MINUTE = 60.0
TOLERANCE = 1e-9  # relative: a value equal to its limit up to float rounding passes


@dataclass(frozen=True)
class SentOrder:
    """An order the broker was asked to send, and when (wall-clock seconds of the guard's clock)."""

    order_id: str
    symbol: str
    side: str
    size: float
    at: float


@dataclass(frozen=True)
class Context:
    """What the checks compare an order with."""

    last_close: float  # the order's symbol at the last close before the order
    notionals: Mapping[str, float]  # every symbol's open position notional now, in cash (before this order)
    balance: float  # free cash of the order's account
    sent: Sequence[SentOrder]  # orders sent recently, oldest first
    open_orders: Collection[str]  # client ids of orders sent and not yet done (a venue's working orders)
    now: float  # wall-clock seconds, the clock of `sent`


@dataclass(frozen=True)
class Rejection:
    """The limit an order breaks, and why."""

    limit: str
    reason: str

    def describe(self) -> str:
        return f"{self.limit}: {self.reason}"


def _over(value: float, limit: float) -> bool:
    return value > limit * (1 + TOLERANCE)


def _flow(proposal: Proposal, limits: RiskLimits, context: Context) -> Rejection | None:
    """The checks every order passes: duplicates, rate and the price collar."""
    order = proposal.order
    if order.id in context.open_orders:
        return Rejection("duplicate_order", f"client order id {order.id} is already working at the venue")
    recent = [s for s in context.sent if s.at > context.now - MINUTE]
    if limits.max_orders_per_minute is not None and len(recent) >= limits.max_orders_per_minute:
        return Rejection(
            "max_orders_per_minute",
            f"{len(recent)} orders sent in the last 60 s (limit {limits.max_orders_per_minute})",
        )
    if limits.duplicate_window_seconds is not None:
        window = limits.duplicate_window_seconds
        for sent in context.sent:
            same = sent.order_id != order.id and sent.symbol == order.symbol and sent.side == proposal.side
            if same and sent.at > context.now - window and abs(sent.size - proposal.size) <= TOLERANCE * sent.size:
                return Rejection(
                    "duplicate_order",
                    f"{proposal.side} {proposal.size:g} {order.symbol} repeats order {sent.order_id}, "
                    f"sent {context.now - sent.at:.1f} s ago (window {window:g} s)",
                )
    if limits.price_collar_pct is not None and context.last_close > 0:
        distance = abs(proposal.price / context.last_close - 1) * 100
        if _over(distance, limits.price_collar_pct):
            return Rejection(
                "price_collar_pct",
                f"price {proposal.price:,.6g} is {distance:.2f}% from the last close {context.last_close:,.6g} "
                f"(limit {limits.price_collar_pct:g}%)",
            )
    return None


def _exposure(proposal: Proposal, limits: RiskLimits, context: Context) -> Rejection | None:
    """The checks an entry passes: notional per order, per symbol, in total, and the cash to pay for it."""
    symbol, notional = proposal.order.symbol, proposal.notional
    if limits.max_order_notional is not None and _over(notional, limits.max_order_notional):
        return Rejection("max_order_notional", f"order notional {notional:,.2f} > {limits.max_order_notional:,.2f}")
    position = context.notionals.get(symbol, 0.0) + notional
    if limits.max_position_notional is not None and _over(position, limits.max_position_notional):
        return Rejection(
            "max_position_notional",
            f"{symbol} notional would be {position:,.2f} > {limits.max_position_notional:,.2f}",
        )
    total = sum(context.notionals.values()) + notional
    if limits.max_total_notional is not None and _over(total, limits.max_total_notional):
        return Rejection(
            "max_total_notional", f"total notional would be {total:,.2f} > {limits.max_total_notional:,.2f}"
        )
    if limits.require_balance and _over(notional, context.balance):
        return Rejection("require_balance", f"order notional {notional:,.2f} > free cash {context.balance:,.2f}")
    return None


def check(proposal: Proposal, limits: RiskLimits, context: Context) -> Rejection | None:
    """The first limit `proposal` breaks under `limits` in `context`, or None when it may be sent."""
    found = _flow(proposal, limits, context)
    if found is None and proposal.order.intent != CLOSE:
        found = _exposure(proposal, limits, context)
    return found


def counts(engine: Engine, session_id: str) -> dict[str, int]:
    """Pre-trade rejections of a session so far, by limit (every limit named, zero included)."""
    reason = TraderOrderRow.reason
    columns = [func.coalesce(func.sum(case((reason.startswith(f"{name}:"), 1), else_=0)), 0) for name in LIMITS]
    with Session(engine) as db:
        row = db.execute(
            select(*columns).where(TraderOrderRow.session_id == session_id, TraderOrderRow.status == "rejected")
        ).one()
    return {name: int(value) for name, value in zip(LIMITS, row, strict=True)}


def rejections(outcomes: Sequence[Mapping[str, Any]]) -> int:
    """How many of a bar's order outcomes are pre-trade rejections (their reason starts with a limit's name)."""
    return sum(1 for o in outcomes if o["status"] == "rejected" and (o["reason"] or "").startswith(PREFIXES))


class PretradeGuard:
    """The trading loop's pre-trade gate: context from the ledger, rejections audited, notified and counted."""

    def __init__(self, limits: RiskLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.sent: deque[SentOrder] = deque()  # this process's sends (a restart starts an empty window)
        self.rejected_bar: int | None = None  # the last bar at which an order was rejected
        self._horizon = max(MINUTE, limits.duplicate_window_seconds or 0.0)

    def context(
        self,
        *,
        last_close: float,
        notionals: Mapping[str, float],
        balance: float,
        open_orders: Collection[str] = frozenset(),
    ) -> Context:
        """The context of an order now; `open_orders` are the client ids a venue still works (paper: none)."""
        now = self.clock()
        while self.sent and self.sent[0].at <= now - self._horizon:
            self.sent.popleft()
        return Context(last_close, notionals, balance, tuple(self.sent), frozenset(open_orders), now)

    def judge(
        self,
        connection: Connection,
        session_id: str,
        proposal: Proposal,
        context: Context,
        *,
        bar: int,
        messages: list[Message],
    ) -> Rejection | None:
        """Check `proposal`: None records it as sent; a rejection is audited and announced (into `messages`)."""
        found = check(proposal, self.limits, context)
        if found is None:
            order = proposal.order
            self.sent.append(SentOrder(order.id, order.symbol, proposal.side, proposal.size, context.now))
            return None
        self.rejected_bar = bar
        order = proposal.order
        audit.append(
            connection,
            actor=audit.RISK_ENGINE,
            action="trader.order.rejected",
            target=session_id,
            outcome="rejected",
            detail={
                "order": order.id,
                "symbol": order.symbol,
                "intent": order.intent,
                "side": proposal.side,
                "size": proposal.size,
                "price": proposal.price,
                "notional": proposal.notional,
                "limit": found.limit,
                "reason": found.reason,
                "bar": bar,
            },
        )
        messages.append(self._message(session_id, proposal, found))
        return found

    @staticmethod
    def _message(session_id: str, proposal: Proposal, found: Rejection) -> Message:
        order = proposal.order
        return Message(
            kind="trader_rejection",
            title=f"Trader {session_id} rejected an order: {found.limit}",
            fields={"order": order.id, "symbol": order.symbol, "side": proposal.side, "size": f"{proposal.size:g}"},
            lines=[found.reason],
            thread_key=f"trader-{session_id}",
            ok=False,
        )

    def burst(self, connection: Connection, session_id: str, bar: int, *, uncommitted: int = 0) -> list[Breach]:
        """A HALTED breach when rejection_burst pre-trade rejections fell within the window ending at `bar`
        (those committed from the ledger, plus `uncommitted`: this bar's, written when the bar commits)."""
        limit = self.limits.rejection_burst
        if limit is None or self.rejected_bar != bar:
            return []
        reason = TraderOrderRow.reason
        since = bar - self.limits.rejection_window_bars  # orders decided at bar b are judged at b + 1
        stored = connection.scalar(
            select(func.count()).where(
                TraderOrderRow.session_id == session_id,
                TraderOrderRow.status == "rejected",
                TraderOrderRow.decided_bar >= since,
                or_(*(reason.startswith(prefix) for prefix in PREFIXES)),
            )
        )
        count = (stored or 0) + uncommitted
        if count < limit:
            return []
        return [Breach("rejection_burst", float(count), float(limit), HALTED)]
