"""The kill switch at the venue: halt cancels every open order there; `flatten` also sells what is held.

Stopping a process never cancels venue orders (nautilus_trader's rule); only this does, and it
reports what it cancelled and what it could not. Flatten orders go the way every order goes:
their intent is committed to the ledger before they are sent (status `flattening`, which the
trading loop never adopts), each carries its own client order id, and each passes the venue
gateway (trader/venue/gateway.py) as the kill switch's own close; this module books its fill, once.
"""

from __future__ import annotations

from copy import copy
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.store.models import TraderAccountRow, TraderOrderRow, TraderTradeRow
from tradeops.trader.broker import CLOSE, Execution, Order
from tradeops.trader.control import FLATTENING, SENT, TraderStatus, lock_session
from tradeops.trader.pretrade import PretradeGuard
from tradeops.trader.risk import RiskLimits
from tradeops.trader.venue.ccxt_broker import CcxtBroker
from tradeops.trader.venue.gateway import KILL_SWITCH, Basis, Gateway


def withdraw(
    engine: Engine, broker: CcxtBroker, status: TraderStatus, *, actor: str, reason: str, flatten: bool = False
) -> dict[str, Any]:
    """For a session already HALTED: cancel every open order on its markets, with `flatten` sell what it holds;
    audited as `venue.halt`. Returns what was cancelled, what failed, what was flattened, and the outcome."""
    symbols = sorted(set(status.positions) | set(broker.symbols))
    report = broker.cancel_all(symbols)
    flattened = _flatten(engine, broker, status.session, status.last_bar, actor) if flatten else []
    outcome = "failed" if report["failed"] or any(not f["filled"] for f in flattened) else "applied"
    audit.AuditLog(engine).record(
        actor=actor,
        action="venue.halt",
        target=status.session,
        outcome=outcome,
        detail={"reason": reason, **report, "flattened": flattened},
    )
    return {**report, "flattened": flattened, "outcome": outcome}


def _flatten(engine: Engine, broker: CcxtBroker, session_id: str, bar: int, actor: str) -> list[dict[str, Any]]:
    """Sell what the session holds, each order through the gateway as the kill switch's own (status `flattening`:
    the trading loop never adopts it; this function books it, once)."""
    market = copy(broker)
    market.order_type = "market"
    stamp = datetime.now(UTC)
    with Session(engine) as db, db.begin():  # record every intent before anything is sent
        session = lock_session(db, session_id)
        limits = RiskLimits.model_validate(session.risk if session is not None else {})
        in_flight = db.scalars(
            select(TraderOrderRow.id).where(TraderOrderRow.session_id == session_id, TraderOrderRow.status == SENT)
        ).first()
        if in_flight is not None:  # the loop is placing it: its fill is not in the accounts yet, so none is sold
            why = f"order {in_flight} is in flight at the venue; flatten again once the trader has settled it"
            return [{"symbol": "(all)", "order": None, "filled": False, "size": None, "price": None, "reason": why}]
        unsettled = db.scalars(  # a flatten killed before it booked its answer: found at the venue, booked now
            select(TraderOrderRow).where(TraderOrderRow.session_id == session_id, TraderOrderRow.status == FLATTENING)
        ).all()
        orders = [(Order(o.id, o.symbol, CLOSE), True) for o in unsettled]
        accounts = db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == session_id)).all()
        for s, row in enumerate(sorted(accounts, key=lambda a: a.symbol)):
            if broker.is_flat(row.symbol, row.position) or any(o.symbol == row.symbol for o, _ in orders):
                continue
            order = Order(f"{session_id}:flatten:{stamp:%Y%m%dT%H%M%S%f}:{s:04d}", row.symbol, CLOSE)
            db.add(
                TraderOrderRow(
                    id=order.id, session_id=session_id, symbol=row.symbol, intent=CLOSE, decided_bar=bar,
                    status=FLATTENING, reason=f"flatten by {actor}", created_at=stamp,
                )
            )  # fmt: skip
            orders.append((order, False))
    gateway = Gateway(engine, session_id, market, guard=PretradeGuard(limits))
    results = []
    for order, sent_before in orders:
        basis = Basis(bar=bar, reference=_estimate(engine, session_id, order.symbol))
        done = gateway.submit(order, basis, owner=KILL_SWITCH, in_flight=sent_before)
        if not done.rejected:
            _record(engine, session_id, order, done, bar)
        results.append({"symbol": order.symbol, "order": order.id, "filled": done.filled, "size": done.size})
        results[-1] |= {"price": done.price, "fees": done.fees, "reason": done.reason}
    return results


def _estimate(engine: Engine, session_id: str, symbol: str) -> float:
    """The price a flatten order is planned at when the venue has no ticker: the position's entry price."""
    with Session(engine) as db:
        row = db.get(TraderAccountRow, (session_id, symbol))
        return float(row.entry_price) if row is not None else 0.0


def _record(engine: Engine, session_id: str, order: Order, done: Execution, bar: int) -> None:
    with Session(engine) as db, db.begin():
        lock_session(db, session_id)
        row = db.get(TraderOrderRow, order.id)
        assert row is not None  # committed above
        if row.status != FLATTENING:
            return  # booked already (once: by this function, under the session's lock)
        row.fill_bar, row.fill_time = bar, datetime.now(UTC)
        if not done.filled:
            row.status, row.reason = "unfilled", done.reason
            return
        row.status, row.price, row.size, row.fees = "filled", done.price, done.size, done.fees
        row.other_fees = done.other_fees
        account = db.get(TraderAccountRow, (session_id, order.symbol))
        assert account is not None
        for name, value in asdict(done.account).items():
            setattr(account, name, value)
        if done.closed is not None:
            db.add(TraderTradeRow(session_id=session_id, symbol=order.symbol, **asdict(done.closed)))
