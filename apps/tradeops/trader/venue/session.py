"""The trading loop's hooks for a venue broker: intent before sending, reconciliation after the bar.

`send` runs before the bar's transaction: it marks each pending order `sent` and commits (the
intent is recorded), and only then sends each through the venue gateway (trader/venue/gateway.py),
which re-checks state, history, the bar's age, cash and the pre-trade limits under the session's
lock right before the venue call. A process killed after that commit and before the venue's
answer is recorded leaves the order `sent`; the next start passes it to the gateway again, which
finds it at the venue by its client order id instead of placing it twice. An order already `sent`
while the trader is halted is only looked up, never placed.

A restarted process reconciles before it sends anything (crash-only: recovery reconciles with the
venue before trading), unless orders are in flight: then their bar settles them first and
`after_bar` reconciles right after it. `after_bar` reconciles again every `reconcile_every` bars; a
difference halts the session, audited, with a Slack message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.notify.base import Message
from tradeops.store.models import TraderOrderRow
from tradeops.trader import ledger
from tradeops.trader.broker import Execution, Order
from tradeops.trader.control import HALTED, IN_FLIGHT, SENT, lock_session
from tradeops.trader.venue.ccxt_broker import CcxtBroker
from tradeops.trader.venue.gateway import Basis, Gateway
from tradeops.trader.venue.reconcile import Reconciliation, reconcile

if TYPE_CHECKING:
    from tradeops.data.bars import Bars
    from tradeops.trader.loop import Trader


def bar_close(bars: Bars, t: int) -> datetime:
    """When bar `t` closed: its open plus the bars' timeframe (the spacing before it; the next bar's open)."""
    import pandas as pd

    index = bars.index
    if bars.origin is not None and bars.origin.timeframe:
        from tradeops.data.timeframes import timeframe_seconds

        step = pd.Timedelta(seconds=timeframe_seconds(bars.origin.timeframe))
    elif t > 0:
        step = index[t] - index[t - 1]
    elif len(index) > 1:
        step = index[1] - index[0]
    else:
        step = pd.Timedelta(0)
    return (index[t] + step).to_pydatetime()


class VenueSession:
    """Wires a `CcxtBroker` into a `Trader` (pass it as both `broker=` and `venue=`)."""

    def __init__(
        self,
        broker: CcxtBroker,
        *,
        reconcile_every: int = 60,
        max_bar_age_seconds: float | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.broker = broker
        self.now = now
        self.reconcile_every = reconcile_every
        self.max_bar_age_seconds = max_bar_age_seconds  # None: any bar may trade (a replay against a sandbox)
        self.reconciled_once = False
        self.last: Reconciliation | None = None
        self.messages: list[Message] = []  # from a reconciliation before the bar, sent with the bar's
        self._gateway: Gateway | None = None

    def gateway(self, trader: Trader) -> Gateway:
        """The session's one gateway to the venue (trader/venue/gateway.py)."""
        if self._gateway is None:
            self._gateway = Gateway(
                trader.engine,
                trader.config.session_id,
                self.broker,
                guard=trader.guard,
                max_bar_age_seconds=self.max_bar_age_seconds,
                now=self.now,
            )
        return self._gateway

    def send(self, trader: Trader, bars: Bars, t: int, verified: ledger.SessionState) -> dict[str, Execution]:
        """Commit each pending order's intent, then send each through the gateway; the answers by order id.

        `verified` is the ledger's state whose history the caller checked against `bars`: the gateway sends
        nothing unless the ledger still holds exactly that history when the order goes.
        """
        self._recover(trader, t)
        with Session(trader.engine) as db, db.begin():
            row = lock_session(db, trader.config.session_id)
            if row is None or t != row.last_bar + 1:
                return {}  # the bar's transaction reports what is wrong
            orders = db.scalars(
                select(TraderOrderRow)
                .where(TraderOrderRow.session_id == row.id, TraderOrderRow.status.in_(("pending", SENT)))
                .order_by(TraderOrderRow.id)
            ).all()
            plan = [(Order(o.id, o.symbol, o.intent), o.status == SENT) for o in orders]
            for order in orders:
                order.status = SENT
        gateway = self.gateway(trader)  # committed above: every intent is recorded before anything is sent
        opens = {symbol: float(bars.open[t, s]) for s, symbol in enumerate(bars.symbols)}
        closes = {symbol: float(bars.close[t - 1, s]) for s, symbol in enumerate(bars.symbols)} if t > 0 else opens
        answers: dict[str, Execution] = {}
        for request, in_flight in plan:
            basis = Basis(
                bar=t,
                reference=opens[request.symbol],
                last_bar=verified.last_bar,
                fingerprint=verified.data_fingerprint,
                bar_close=bar_close(bars, t),
                last_close=closes[request.symbol],
                max_size=trader.max_size(opens[request.symbol]),
                prices=opens,
            )
            answers[request.id] = gateway.submit(request, basis, in_flight=in_flight)
        self.messages += gateway.messages
        gateway.messages = []
        return answers

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
                .where(TraderOrderRow.session_id == trader.config.session_id, TraderOrderRow.status.in_(IN_FLIGHT))
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
