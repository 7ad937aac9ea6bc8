"""The one gateway to the venue: every order that can reach a venue passes `Gateway.submit`.

The trading loop's orders and the kill switch's flatten orders alike. `submit` takes the session's
row lock (`lock_session`: SQLite's write lock, PostgreSQL's row lock) and, holding it, re-reads what
may have changed since the order was decided, then sends the order and waits for the venue's answer
before it lets the lock go:

- the session's state: HALTED refuses every order except the kill switch's own closes (a flatten),
  REDUCING refuses entries;
- the history: the ledger's last bar and data fingerprint must be those the caller traded on (a
  restart on edited bars, or another process that moved the ledger, sends nothing);
- the bar's age, measured from its close (a just-closed 1h bar is fresh; catching up after downtime
  does not trade the past);
- the session's own cash, read from the ledger under the lock: an entry whose worst-case cost
  (size x protected limit price x (1 + fee)) exceeds it is refused, so the session's cash cannot go
  below zero;
- the pre-trade checks, with the venue's working orders as the duplicate guard's input.

The kill switch changes the state under the same lock (`TraderControl.set_state`), so it either
comes before a submit (which then refuses) or waits for the submit in progress to finish (its
order was sent, and its answer is known): once a halt has returned, nothing more reaches the venue.
A refusal is recorded on the order (`rejected`, with its reason) and audited in the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.notify.base import Message
from tradeops.store.models import TraderAccountRow, TraderOrderRow
from tradeops.trader import risk
from tradeops.trader.broker import CLOSE, Account, Execution, Order, Proposal
from tradeops.trader.control import lock_session

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tradeops.trader.pretrade import PretradeGuard
    from tradeops.trader.venue.ccxt_broker import CcxtBroker

YIELD_SECONDS = 0.15  # between two orders the lock is left free this long: a waiting kill switch gets in first
# (SQLite's busy handler retries at most every 100 ms; PostgreSQL queues lock waiters in order)
LOOP, KILL_SWITCH = "loop", "kill-switch"  # who sends an order: the trading loop, or the kill switch's flatten


def account_of(row: TraderAccountRow) -> Account:
    return Account(**{name: getattr(row, name) for name in Account.__dataclass_fields__})


@dataclass(frozen=True)
class Basis:
    """What the caller decided the order on, which the ledger must still agree with when it is sent.

    `last_bar` and `fingerprint` are the ledger's cursor and data fingerprint the caller traded on (None for
    the kill switch, which decides on no bars); `bar_close` is when the bar the order is sent at closed;
    `reference` the price the caller expects (the bar's open for the loop), for the collar and max size.
    """

    bar: int
    reference: float
    last_bar: int | None = None
    fingerprint: str | None = None
    bar_close: datetime | None = None
    last_close: float | None = None
    max_size: float = float("inf")
    prices: Mapping[str, float] | None = None  # each symbol's price now, for the exposure checks


class Gateway:
    """Sends one session's orders to the venue, each checked under the session's lock just before it goes."""

    def __init__(
        self,
        engine: Engine,
        session_id: str,
        broker: CcxtBroker,
        *,
        guard: PretradeGuard | None = None,
        max_bar_age_seconds: float | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.now = now  # the wall clock the bar's age is measured on
        self.session_id = session_id
        self.broker = broker
        self.guard = guard
        self.max_bar_age_seconds = max_bar_age_seconds
        self.messages: list[Message] = []  # the pre-trade rejections' notices, sent with the bar's
        self._last_sent: float | None = None  # when this gateway last let the session's lock go

    def submit(self, order: Order, basis: Basis, *, owner: str = LOOP, in_flight: bool = False) -> Execution:
        """Send `order` once (or find it at the venue when it was sent before), or refuse it with the reason."""
        if self._last_sent is not None:  # a kill switch waiting since the last order gets the lock before this one
            time.sleep(max(0.0, self._last_sent + YIELD_SECONDS - time.monotonic()))
        try:
            return self._submit(order, basis, owner=owner, in_flight=in_flight)
        finally:
            self._last_sent = time.monotonic()

    def _submit(self, order: Order, basis: Basis, *, owner: str, in_flight: bool) -> Execution:
        with Session(self.engine) as db, db.begin():
            row = lock_session(db, self.session_id)
            stored = db.get(TraderAccountRow, (self.session_id, order.symbol), populate_existing=True)
            if row is None or stored is None:
                return Execution(False, Account.opening(0.0), reason="the session or its account is gone")
            account = account_of(stored)
            if in_flight:  # sent before a restart: the venue may have it; found there, it is never placed again
                found = self.broker.recover(order, account, bar=basis.bar)
                if found is not None:
                    return found
            refusal = self._refusal(row.state, row.last_bar, row.data_fingerprint, order, basis, owner)
            plan = None if refusal else self.broker.plan(order, account, price=basis.reference, max_size=basis.max_size)
            if isinstance(plan, Proposal):
                refusal = self._unaffordable(plan, account) or self._pretrade(db, plan, account, basis)
            if refusal is not None:
                self._refuse(db, order, refusal, basis.bar, owner)
                return Execution(False, account, reason=refusal, rejected=True)
            if not isinstance(plan, Proposal):
                return Execution(False, account, reason=plan)  # nothing would be sent (nothing to close, ...)
            return self.broker.place(plan, account, bar=basis.bar)  # under the lock: a halt waits for its answer

    def _refusal(
        self, state: str, last_bar: int, fingerprint: str | None, order: Order, basis: Basis, owner: str
    ) -> str | None:
        closing = order.intent == CLOSE
        blocked = risk.blocked(state, closing)  # HALTED refuses all, REDUCING entries: the loop's own words
        if blocked is not None and not (owner == KILL_SWITCH and closing):
            return blocked
        if basis.last_bar is not None and (last_bar, fingerprint) != (basis.last_bar, basis.fingerprint):
            return (
                f"the ledger is at bar {last_bar} with other history than the bars this order was decided on "
                f"(bar {basis.last_bar}): not sent"
            )
        return self._stale(basis.bar_close)

    def _stale(self, closed: datetime | None) -> str | None:
        """Why the bar is too old to send orders at: its age is counted from its close."""
        if self.max_bar_age_seconds is None or closed is None:
            return None
        age = (self.now() - (closed if closed.tzinfo else closed.replace(tzinfo=UTC))).total_seconds()
        if age <= self.max_bar_age_seconds:
            return None
        return f"stale bar: closed {age:.0f}s ago (more than {self.max_bar_age_seconds:g}s); not sent to the venue"

    def _unaffordable(self, plan: Proposal, account: Account) -> str | None:
        """An entry whose worst-case cost (its limit price, the taker fee on top) exceeds the session's own cash,
        as the ledger holds it under the lock."""
        if plan.side != "buy":
            return None
        worst = plan.notional * (1 + self.broker.fee_rate(plan.order.symbol))
        if worst > account.free_cash * (1 + 1e-12):
            return (
                f"insufficient session cash: the entry may cost {worst:,.2f}, the session has {account.free_cash:,.2f}"
            )
        return None

    def _pretrade(self, db: Session, plan: Proposal, account: Account, basis: Basis) -> str | None:
        if self.guard is None:
            return None
        held = db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == self.session_id)).all()
        symbol, prices = plan.order.symbol, basis.prices or {}
        context = self.guard.context(
            last_close=basis.last_close if basis.last_close is not None else plan.price,
            notionals={
                a.symbol: abs(a.position * (plan.price if a.symbol == symbol else prices.get(a.symbol, 0.0)))
                for a in held
            },
            balance=account.free_cash,
            open_orders=self._working(plan.order),
        )
        found = self.guard.judge(db.connection(), self.session_id, plan, context, bar=basis.bar, messages=self.messages)
        return None if found is None else found.describe()

    def _working(self, order: Order) -> Collection[str]:
        """The duplicate guard's input: this order's id when the venue already works an order under its client id."""
        from tradeops.trader.venue.ccxt_broker import client_order_id

        return {order.id} if client_order_id(order) in self.broker.working(order.symbol) else set()

    def _refuse(self, db: Session, order: Order, reason: str, bar: int, owner: str) -> None:
        stored = db.get(TraderOrderRow, order.id)
        if stored is not None:
            stored.status, stored.reason = "rejected", reason
        if reason.startswith(tuple(_pretrade_names())):
            return  # the pre-trade guard audited it already, with its limit
        audit.record(
            db, actor=audit.RISK_ENGINE, action="trader.order.refused", target=self.session_id, outcome="rejected",
            detail={"order": order.id, "symbol": order.symbol, "intent": order.intent, "owner": owner,
                    "reason": reason, "bar": bar},
        )  # fmt: skip


def _pretrade_names() -> tuple[str, ...]:
    from tradeops.trader.pretrade import PREFIXES

    return PREFIXES
