"""The kill switch: halt, reduce-only and resume a trading session, each change audited.

The state lives on the session row; the trading loop reads it under a row lock at every bar, so a
change made here (from the CLI, the trader API or Slack) applies from the next bar on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.errors import ConfigError
from tradeops.store.database import aware
from tradeops.store.models import (
    TraderAccountRow,
    TraderDivergenceRow,
    TraderEquityRow,
    TraderOrderRow,
    TraderSessionRow,
)
from tradeops.trader.states import COMMANDS as COMMANDS  # the states, declared apart and re-exported here
from tradeops.trader.states import HALTED as HALTED
from tradeops.trader.states import REDUCING as REDUCING
from tradeops.trader.states import RUNNING, STATES

SENT, FLATTENING = "sent", "flattening"  # an order's intent recorded, the venue's answer not yet: the loop's, flatten's
IN_FLIGHT = (SENT, FLATTENING)
LOCK_WAIT_SECONDS = 60.0  # a kill-switch change waits this long for an order at the venue; a halt waits for
# longer than the venue's order deadline (trader/killswitch.py)


@dataclass(frozen=True)
class TraderStatus:
    """Where a session stands: state, progress, equity and positions."""

    session: str
    strategy: str
    params: dict[str, Any]
    state: str
    state_reason: str | None
    status: str
    last_bar: int
    last_time: datetime | None
    equity: float | None
    exposure: float | None
    drawdown_pct: float | None
    positions: dict[str, float]
    orders: dict[str, int]
    divergence: dict[str, Any] | None = None  # the last comparison with the backtest (trader/divergence.py)
    venue: dict[str, Any] | None = None  # a halt's answer from the venue (trader/killswitch.py); None otherwise

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "last_time": self.last_time.isoformat() if self.last_time else None}


def lock_session(session: Session, session_id: str) -> TraderSessionRow | None:
    """Take the session row for this transaction: a write first (SQLite then holds its write lock; PostgreSQL
    the row lock), then the row as stored now. The trading loop and the kill switch both enter this way, so a
    resume or a halt can never be overwritten by a bar that read the row before it."""
    session.execute(
        update(TraderSessionRow).where(TraderSessionRow.id == session_id).values(updated_at=datetime.now(UTC))
    )
    return session.get(TraderSessionRow, session_id, populate_existing=True, with_for_update=True)


class TraderControl:
    """Read a session's status and change its state."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def resolve(self, session: Session, session_id: str | None) -> TraderSessionRow:
        """The named session, or the most recently updated active one; a ConfigError when there is none."""
        if session_id is not None:
            row = session.get(TraderSessionRow, session_id)
            if row is None:
                raise ConfigError(f"no trading session {session_id!r}")
            return row
        row = session.scalars(
            select(TraderSessionRow)
            .where(TraderSessionRow.status == "active")
            .order_by(TraderSessionRow.updated_at.desc())
            .limit(1)
        ).first()
        if row is None:
            raise ConfigError("no active trading session; start one with `tradeops serve trader` or `trader replay`")
        return row

    def set_state(
        self,
        state: str,
        *,
        actor: str,
        reason: str,
        session_id: str | None = None,
        wait_seconds: float = LOCK_WAIT_SECONDS,
    ) -> TraderStatus:
        """Move a session to `state` and audit it (outcome `applied`, or `unchanged` when already there).

        The session's lock is the one the venue gateway holds while an order is at the venue: the change waits
        for that order's answer (up to `wait_seconds`, longer than any order's deadline), so once a halt has
        returned nothing more is sent."""
        if state not in STATES:
            raise ConfigError(f"unknown trader state {state!r}; states: {', '.join(STATES)}")
        if not reason.strip():
            raise ConfigError("say why: a kill-switch change needs a reason")
        stop = time.monotonic() + wait_seconds
        while True:
            try:
                return self._set_state(state, actor=actor, reason=reason, session_id=session_id)
            except OperationalError as error:  # the lock's wait ran out (SQLite busy, PostgreSQL lock_timeout)
                if "lock" not in str(error.orig).lower() or time.monotonic() >= stop:
                    raise ConfigError(
                        f"the session stayed locked for {wait_seconds:g}s (an order at the venue?): {error.orig}"
                    ) from None
                time.sleep(0.05)

    def _set_state(self, state: str, *, actor: str, reason: str, session_id: str | None) -> TraderStatus:
        with Session(self.engine) as session, session.begin():
            row = lock_session(session, self.resolve(session, session_id).id)
            assert row is not None  # resolved just now, in this transaction
            previous = row.state
            if previous != state:  # an unchanged state keeps the reason that put it there (e.g. the risk engine's)
                row.state, row.state_reason = state, reason
            if state == RUNNING and previous != RUNNING:
                self._rebase(session, row)
            audit.record(
                session,
                actor=actor,
                action=f"trader.{state}",
                target=row.id,
                outcome="unchanged" if previous == state else "applied",
                detail={"from": previous, "to": state, "reason": reason},
            )
            target = row.id
        return self.status(target)

    def in_flight(self, session_id: str) -> list[str]:
        """The session's orders sent to the venue whose answer is not booked yet (status sent or flattening)."""
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(TraderOrderRow.id)
                    .where(TraderOrderRow.session_id == session_id, TraderOrderRow.status.in_(IN_FLIGHT))
                    .order_by(TraderOrderRow.id)
                )
            )

    @staticmethod
    def _rebase(session: Session, row: TraderSessionRow) -> None:
        """A resume acknowledges the loss so far: drawdown and daily loss count from the current equity."""
        last = session.get(TraderEquityRow, (row.id, row.last_bar))
        if last is not None:
            row.peak_equity = row.day_start_equity = last.equity

    def status(self, session_id: str | None = None) -> TraderStatus:
        with Session(self.engine) as session:
            row = self.resolve(session, session_id)
            last = session.scalars(
                select(TraderEquityRow)
                .where(TraderEquityRow.session_id == row.id)
                .order_by(TraderEquityRow.bar.desc())
                .limit(1)
            ).first()
            accounts = session.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == row.id))
            orders = session.execute(
                select(TraderOrderRow.status, func.count())
                .where(TraderOrderRow.session_id == row.id)
                .group_by(TraderOrderRow.status)
            )
            compared = session.scalars(
                select(TraderDivergenceRow)
                .where(TraderDivergenceRow.session_id == row.id)
                .order_by(TraderDivergenceRow.bar.desc())
                .limit(1)
            ).first()
            return TraderStatus(
                session=row.id,
                strategy=row.strategy,
                params=row.params,
                state=row.state,
                state_reason=row.state_reason,
                status=row.status,
                last_bar=row.last_bar,
                last_time=aware(row.last_time) if row.last_time else None,
                equity=last.equity if last else None,
                exposure=last.exposure if last else None,
                drawdown_pct=last.drawdown_pct if last else None,
                positions={a.symbol: a.position for a in accounts},
                orders={status: count for status, count in orders.all()},
                divergence=_divergence(compared),
            )


def _divergence(row: TraderDivergenceRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    names = ("bar", "trades_live", "trades_backtest", "position_gap", "equity_live", "equity_backtest")
    return {name: getattr(row, name) for name in (*names, "equity_drift_bps", "slippage_bps", "fills")}
