"""The trading loop's hooks for a venue broker: intent before sending, reconciliation after the bar.

`send` runs before the bar's transaction: it marks each pending order `sent` and commits (the
intent is recorded), and only then sends it. A process killed after that commit and before the
venue's answer is recorded leaves the order `sent`; the next start sends it again through the
broker, which finds it at the venue by its client order id instead of placing it twice. An order
already `sent` while the trader is halted is only looked up, never placed.

A restarted process reconciles before it sends anything (crash-only: recovery reconciles with the
venue before trading), unless orders are in flight: then their bar settles them first and
`after_bar` reconciles right after it. `after_bar` reconciles again every `reconcile_every` bars; a
difference halts the session, audited, with a Slack message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.notify.base import Message
from tradeops.store.models import TraderAccountRow, TraderOrderRow
from tradeops.trader import risk
from tradeops.trader.broker import CLOSE, Account, Execution, Order
from tradeops.trader.control import HALTED, lock_session
from tradeops.trader.venue.ccxt_broker import CcxtBroker
from tradeops.trader.venue.reconcile import Reconciliation, reconcile

if TYPE_CHECKING:
    from tradeops.data.bars import Bars
    from tradeops.trader.loop import Trader


def _account(row: TraderAccountRow) -> Account:
    return Account(**{name: getattr(row, name) for name in Account.__dataclass_fields__})


class VenueSession:
    """Wires a `CcxtBroker` into a `Trader` (pass it as both `broker=` and `venue=`)."""

    def __init__(
        self, broker: CcxtBroker, *, reconcile_every: int = 60, max_bar_age_seconds: float | None = None
    ) -> None:
        self.broker = broker
        self.reconcile_every = reconcile_every
        self.max_bar_age_seconds = max_bar_age_seconds  # None: any bar may trade (a replay against a sandbox)
        self.reconciled_once = False
        self.last: Reconciliation | None = None
        self.messages: list[Message] = []  # from a reconciliation before the bar, sent with the bar's

    def send(self, trader: Trader, bars: Bars, t: int) -> dict[str, Execution]:
        """Commit each pending order's intent, then send it; return the venue's answers by order id."""
        self._recover(trader, t)
        with Session(trader.engine) as db, db.begin():
            row = lock_session(db, trader.config.session_id)
            if row is None or t != row.last_bar + 1:
                return {}  # the bar's transaction reports what is wrong
            accounts = {
                a.symbol: _account(a)
                for a in db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == row.id))
            }
            orders = db.scalars(
                select(TraderOrderRow)
                .where(TraderOrderRow.session_id == row.id, TraderOrderRow.status.in_(("pending", "sent")))
                .order_by(TraderOrderRow.id)
            ).all()
            plan: list[tuple[Order, str | None, bool]] = []  # (order, why it may not be placed, sent before)
            stale = self._stale(bars, t)
            for order in orders:
                blocked = stale or risk.blocked(row.state, order.intent == CLOSE)
                if blocked is not None and order.status == "pending":
                    order.status, order.reason = "rejected", blocked
                    continue
                plan.append((Order(order.id, order.symbol, order.intent), blocked, order.status == "sent"))
                order.status = "sent"
        answers: dict[str, Execution] = {}  # committed above: every intent is recorded before anything is sent
        for request, blocked, in_flight in plan:
            price = float(bars.open[t, bars.symbols.index(request.symbol)])
            account = accounts[request.symbol]
            if blocked is None:
                # an order sent before a restart may be at the venue (found by its client order id); one the venue
                # never saw passes the pre-trade checks like any other before it is sent
                done = self.broker.recover(request, account, bar=t) if in_flight else None
                if done is None:
                    if self._refused(trader, accounts, request, bars, t, price) is not None:
                        continue  # recorded as rejected, never sent
                    done = self.broker.execute(request, account, price=price, bar=t, max_size=trader.max_size(price))
            else:
                done = self.broker.recover(request, account, bar=t) or Execution(False, account, reason=blocked)
            accounts[request.symbol] = done.account
            answers[request.id] = done
        return answers

    def _refused(
        self, trader: Trader, accounts: dict[str, Account], request: Order, bars: Bars, t: int, price: float
    ) -> str | None:
        """The pre-trade checks, just before sending (the loop's one place every order passes); a rejection is
        recorded on the order (its intent was `sent`, it becomes `rejected`) with its audit entry."""
        with trader.engine.begin() as connection:
            found = trader.pretrade(connection, accounts, request, bars, t, price, self.messages)
            if found is None:
                return None
            connection.execute(
                update(TraderOrderRow)
                .where(TraderOrderRow.id == request.id)
                .values(status="rejected", reason=found.describe())
            )
        return found.describe()

    def _stale(self, bars: Bars, t: int) -> str | None:
        """Why bar `t` is too old to send orders at (catching up after downtime must not trade the past)."""
        if self.max_bar_age_seconds is None:
            return None
        opened = bars.index[t].to_pydatetime()
        age = (datetime.now(UTC) - (opened if opened.tzinfo else opened.replace(tzinfo=UTC))).total_seconds()
        if age <= self.max_bar_age_seconds:
            return None
        return f"stale bar: opened {age:.0f}s ago (more than {self.max_bar_age_seconds:g}s); not sent to the venue"

    def after_bar(self, trader: Trader, t: int) -> list[Message]:
        """Reconcile when due; on a difference halt the session and return the message for Slack."""
        messages, self.messages = self.messages, []
        if self.reconciled_once and (self.reconcile_every <= 0 or t % self.reconcile_every):
            return messages
        return messages + self._check(trader, t)

    def _recover(self, trader: Trader, t: int) -> None:
        """Before this process sends anything: reconcile, unless orders are in flight (their bar settles them)."""
        if self.reconciled_once or trader.last_bar < 0:
            return
        with Session(trader.engine) as db:
            in_flight = db.scalars(
                select(TraderOrderRow.id)
                .where(TraderOrderRow.session_id == trader.config.session_id, TraderOrderRow.status == "sent")
                .limit(1)
            ).first()
        if in_flight is None:
            self.messages += self._check(trader, t)

    def _check(self, trader: Trader, t: int) -> list[Message]:
        session_id = trader.config.session_id
        found = reconcile(trader.engine, session_id, self.broker, record_baseline=True)
        self.reconciled_once, self.last = True, found
        if found.ok:
            return []
        lines = [f"{d.kind} {d.key}: ledger {d.ledger}, venue {d.venue} ({d.note})" for d in found.differences]
        reason = "venue and ledger differ: " + "; ".join(lines)
        with Session(trader.engine) as db, db.begin():
            row = lock_session(db, session_id)
            assert row is not None  # the bar just committed on it
            previous, row.state, row.state_reason = row.state, HALTED, reason
            audit.record(
                db, actor=audit.RISK_ENGINE, action="venue.mismatch", target=session_id, outcome="halted",
                detail={"bar": t, "from": previous, **found.as_dict()},
            )  # fmt: skip
            if previous == HALTED:
                return []  # already halted (and told): the audit log keeps each check's difference
            audit.record(
                db, actor=audit.RISK_ENGINE, action=f"trader.{HALTED}", target=session_id, outcome="applied",
                detail={"from": previous, "to": HALTED, "reason": reason, "bar": t},
            )  # fmt: skip
        return [
            Message(
                kind="trader_state",
                title=f"Trader {session_id} is now HALTED: the venue and the ledger differ",
                fields={"bar": str(t), "differences": str(len(found.differences))},
                lines=[*lines, "See `tradeops trader reconcile`; resolve with `--accept-venue` or at the venue."],
                thread_key=f"trader-{session_id}",
                ok=False,
            )
        ]
