"""The trading loop. Crash-only: starting and recovering are one path.

Every bar is one database transaction: fill the orders decided at the previous close at this bar's
open, mark equity at the close, apply the risk limits, decide the orders for the next open, and
advance the cursor. A process killed at any point leaves the ledger at the end of a whole bar; the
next start reads it back and goes on from the next bar, so no order is lost or sent twice.

A venue broker (`venue`, trader/venue/) adds two hooks around that transaction: before it, each
pending order's intent is committed (status `sent`) and then sent; after it, the ledger is
reconciled with the venue on start and every N bars. The paper broker keeps one transaction per bar.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.data.bars import Bars
from tradeops.engine import kernel
from tradeops.engine.settings import DIRECTION_CODES, ExecutionSettings
from tradeops.errors import ConfigError, DataError
from tradeops.notify.base import Message, Notifier
from tradeops.store.models import (
    TraderAccountRow,
    TraderEquityRow,
    TraderOrderRow,
    TraderSessionRow,
    TraderTradeRow,
)
from tradeops.strategies.base import Strategy, StrategyParams, lookback, table_from_points
from tradeops.trader import risk
from tradeops.trader.broker import CLOSE, OPEN_LONG, OPEN_SHORT, Account, Broker, Execution, Order, PaperBroker
from tradeops.trader.control import RUNNING, lock_session
from tradeops.trader.feed import Feed
from tradeops.trader.risk import RiskLimits

if TYPE_CHECKING:
    from tradeops.trader.venue.session import VenueSession

RISK_ENGINE = audit.RISK_ENGINE  # the actor of automatic state changes in the audit log
NOTIONAL_HEADROOM = 0.9  # entries use at most 90% of max_position_notional, so ordinary moves do not trip it


@dataclass(frozen=True)
class SessionConfig:
    """What a session trades and how; a restart must present the same one."""

    session_id: str
    strategy: Strategy
    params: StrategyParams
    data_ref: str
    execution: ExecutionSettings
    limits: RiskLimits

    def identity(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.name,
            "params": self.params.model_dump(mode="json"),
            "data_ref": self.data_ref,
            "execution": self.execution.model_dump(mode="json"),
        }


def chain(previous: str | None, bars: Bars, t: int) -> str:
    """The fingerprint of bars 0..t from that of 0..t-1 and bar t (time, then every field of every symbol)."""
    digest = hashlib.sha256((previous or "").encode())
    digest.update(np.int64(bars.index.asi8[t]).tobytes())
    for field in (bars.open, bars.high, bars.low, bars.close, bars.volume):
        digest.update(np.ascontiguousarray(field[t]).tobytes())
    return digest.hexdigest()


def _account(row: TraderAccountRow) -> Account:
    return Account(**{name: getattr(row, name) for name in Account.__dataclass_fields__})


class Trader:
    """Runs one session over a feed, keeping everything in the ledger."""

    def __init__(
        self,
        engine: Engine,
        config: SessionConfig,
        *,
        broker: Broker | None = None,
        notifier: Notifier | None = None,
        heartbeat: Callable[[], None] | None = None,
        venue: VenueSession | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.broker = broker or PaperBroker(config.execution)
        self.notifier = notifier
        self.heartbeat = heartbeat or (lambda: None)
        self.venue = venue  # a remote broker's hooks: intent committed before sending, reconciliation
        self.table = table_from_points([config.params])
        self.lookback = lookback(config.strategy, config.params)  # None: signals need the whole history
        self._checked: object = None  # the data (array) whose traded prefix was last checked against the ledger
        self.last_bar = self._open_session()

    # -- start and recovery (one path) -------------------------------------------------------
    def _open_session(self) -> int:
        """Create the session, or check the stored one matches and return where it stopped."""
        config = self.config
        identity = config.identity()
        with Session(self.engine) as db, db.begin():
            row = db.get(TraderSessionRow, config.session_id)
            if row is not None:
                stored = {name: getattr(row, name) for name in identity}
                if stored != identity:
                    changed = ", ".join(name for name in identity if stored[name] != identity[name])
                    raise ConfigError(
                        f"trading session {config.session_id!r} was started with a different {changed}; "
                        "resume it with the same settings or start a new session"
                    )
                row.risk = config.limits.model_dump(mode="json")
                row.status = "active"
                return row.last_bar
            stamp = datetime.now(UTC)
            db.add(
                TraderSessionRow(
                    id=config.session_id,
                    symbols=[],
                    risk=config.limits.model_dump(mode="json"),
                    state=RUNNING,
                    status="active",
                    last_bar=-1,
                    peak_equity=config.execution.cash,
                    day_start_equity=config.execution.cash,
                    created_at=stamp,
                    updated_at=stamp,
                    **identity,
                )
            )
            return -1

    def _accounts(self, db: Session, row: TraderSessionRow, bars: Bars) -> dict[str, TraderAccountRow]:
        if not row.symbols:  # the first bar fixes the symbols: one account each, as in the engine
            row.symbols = list(bars.symbols)
            cash = self.config.execution.cash / bars.n_symbols
            for symbol in bars.symbols:
                db.add(TraderAccountRow(session_id=row.id, symbol=symbol, **asdict(Account.opening(cash))))
            db.flush()
        elif tuple(row.symbols) != bars.symbols:
            raise DataError(f"the feed's symbols {list(bars.symbols)} differ from the session's {row.symbols}")
        rows = db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == row.id))
        return {a.symbol: a for a in rows}

    # -- the loop ----------------------------------------------------------------------------
    def run(self, feed: Feed, on_bar: Callable[[int], None] | None = None) -> int:
        """Process every bar the feed yields (telling `on_bar` after each); return the last bar processed."""
        for bars in feed.updates(self.last_bar):
            for t in range(self.last_bar + 1, bars.n_bars):
                self.step(bars, t)
                if on_bar is not None:
                    on_bar(t)
        return self.last_bar

    def step(self, bars: Bars, t: int) -> None:
        """Process bar `t` of `bars` in one transaction (a bar already processed is skipped)."""
        messages: list[Message] = []
        sent = self.venue.send(self, bars, t) if self.venue is not None else {}
        with Session(self.engine) as db, db.begin():
            row = lock_session(db, self.config.session_id)
            if row is None:
                raise ConfigError(f"trading session {self.config.session_id!r} disappeared")
            if t <= row.last_bar:
                self.last_bar = row.last_bar
                return
            if t != row.last_bar + 1:
                raise DataError(f"bar {t} arrived but the session stopped at bar {row.last_bar}")
            self._check_history(row, bars)
            accounts = self._accounts(db, row, bars)
            self._fill(db, row, accounts, bars, t, sent)
            self._mark(db, row, accounts, bars, t, messages)
            self._decide(db, row, accounts, bars, t)
            row.last_bar, row.last_time, row.updated_at = t, bars.index[t].to_pydatetime(), datetime.now(UTC)
            row.data_fingerprint = chain(row.data_fingerprint, bars, t)
        self.last_bar = t
        if self.venue is not None:
            messages += self.venue.after_bar(self, t)
        self.heartbeat()
        for message in messages:
            if self.notifier is not None:
                self.notifier.send(message)

    def _check_history(self, row: TraderSessionRow, bars: Bars) -> None:
        """Refuse bars whose already-traded part differs from what the session traded (edited or shifted data).

        Checked once per data source (a replay's heads share one array; each poll of a live file is new),
        so the hot path only extends the chained fingerprint by one bar.
        """
        source = bars.close.base if bars.close.base is not None else bars.close
        if row.last_bar < 0 or self._checked is source:
            return
        fingerprint = None
        for t in range(min(row.last_bar + 1, bars.n_bars)):
            fingerprint = chain(fingerprint, bars, t)
        if bars.n_bars <= row.last_bar or fingerprint != row.data_fingerprint:
            raise DataError(
                f"{bars.name}: the first {row.last_bar + 1} bars differ from those session {row.id!r} already "
                "traded (edited, shifted or another data set); start a new session for new data"
            )
        self._checked = source

    def max_size(self, price: float) -> float:
        """The largest entry the notional limit allows at `price` (with headroom for ordinary moves)."""
        cap = self.config.limits.max_position_notional
        return NOTIONAL_HEADROOM * cap / (price * (1 + self.config.execution.slippage)) if cap else np.inf

    def _fill(
        self,
        db: Session,
        row: TraderSessionRow,
        accounts: dict[str, TraderAccountRow],
        bars: Bars,
        t: int,
        sent: dict[str, Execution],
    ) -> None:
        """Fill the pending orders at this bar's open; `sent` holds a venue's answers to the orders already sent."""
        pending = db.scalars(
            select(TraderOrderRow)
            .where(TraderOrderRow.session_id == row.id, TraderOrderRow.status.in_(("pending", "sent")))
            .order_by(TraderOrderRow.id)
        )
        for order in pending:
            account = accounts[order.symbol]
            s = bars.symbols.index(order.symbol)
            price = float(bars.open[t, s])
            reason = None if order.id in sent else risk.blocked(row.state, order.intent == CLOSE)
            if reason is not None:
                order.status, order.reason = "rejected", reason
                continue
            request = Order(order.id, order.symbol, order.intent)
            done = (
                sent.get(order.id)
                or self.broker.lookup(order.id)
                or self.broker.execute(request, _account(account), price=price, bar=t, max_size=self.max_size(price))
            )
            order.fill_bar, order.fill_time = t, bars.index[t].to_pydatetime()
            if not done.filled:
                order.status, order.reason = "unfilled", done.reason
                continue
            order.status, order.price, order.size, order.fees = "filled", done.price, done.size, done.fees
            for name, value in asdict(done.account).items():
                setattr(account, name, value)
            if done.closed is not None:
                db.add(TraderTradeRow(session_id=row.id, symbol=order.symbol, **asdict(done.closed)))

    def _mark(
        self,
        db: Session,
        row: TraderSessionRow,
        accounts: dict[str, TraderAccountRow],
        bars: Bars,
        t: int,
        messages: list[Message],
    ) -> None:
        close = {symbol: float(bars.close[t, s]) for s, symbol in enumerate(bars.symbols)}
        equity = sum(a.cash + a.position * close[symbol] for symbol, a in accounts.items())
        notionals = {symbol: abs(a.position * close[symbol]) for symbol, a in accounts.items()}
        peak = row.peak_equity = max(row.peak_equity, equity)
        day = bars.index[t].date().isoformat()
        if row.day != day:
            previous = db.get(TraderEquityRow, (row.id, t - 1))
            row.day, row.day_start_equity = day, previous.equity if previous else self.config.execution.cash
        db.add(
            TraderEquityRow(
                session_id=row.id,
                bar=t,
                time=bars.index[t].to_pydatetime(),
                equity=equity,
                exposure=sum(notionals.values()),
                drawdown_pct=(1 - equity / peak) * 100,
            )
        )
        found = risk.breaches(
            self.config.limits, equity=equity, peak=peak, day_start=row.day_start_equity, notionals=notionals
        )
        state = risk.escalate(row.state, found)
        if state != row.state:
            reason = "; ".join(b.describe() for b in found)
            audit.record(
                db,
                actor=RISK_ENGINE,
                action=f"trader.{state}",
                target=row.id,
                outcome="applied",
                detail={"from": row.state, "to": state, "reason": reason, "bar": t},
            )
            row.state, row.state_reason = state, reason
            messages.append(
                Message(
                    kind="trader_state",
                    title=f"Trader {row.id} is now {state.upper()}",
                    fields={"equity": f"{equity:,.2f}", "bar": bars.index[t].isoformat()},
                    lines=[reason, "Resume with `tradeops trader resume` once the cause is understood."],
                    thread_key=f"trader-{row.id}",
                    ok=False,
                )
            )

    def _decide(
        self, db: Session, row: TraderSessionRow, accounts: dict[str, TraderAccountRow], bars: Bars, t: int
    ) -> None:
        start = 0 if self.lookback is None else max(0, t + 1 - self.lookback)
        signals = self.config.strategy.signals(bars.slice(start, t + 1), self.table)  # the new bar's window only
        entries, exits, short_entries, short_exits = (a[-1, :, 0] for a in signals.as_tuple())
        direction = DIRECTION_CODES[self.config.execution.direction]
        stamp = datetime.now(UTC)
        for s, symbol in enumerate(bars.symbols):
            go_long, go_short, leave_long, leave_short = kernel.decide(  # the backtest's own rules
                entries[s], exits[s], short_entries[s], short_exits[s], direction
            )
            position = accounts[symbol].position
            if self.venue is not None and self.venue.broker.is_flat(symbol, position):
                position = 0.0  # fee dust below the venue's smallest order cannot be sold: flat
            intents = []
            if (position > 0 and leave_long) or (position < 0 and leave_short):
                intents.append(CLOSE)
            if (go_long or go_short) and (position == 0 or intents):
                intents.append(OPEN_LONG if go_long else OPEN_SHORT)
            for n, intent in enumerate(intents):
                reason = risk.blocked(row.state, intent == CLOSE)
                db.add(
                    TraderOrderRow(
                        id=f"{row.id}:{t + 1:09d}:{s:04d}:{n}",
                        session_id=row.id,
                        symbol=symbol,
                        intent=intent,
                        decided_bar=t,
                        status="rejected" if reason else "pending",
                        reason=reason,
                        created_at=stamp,
                    )
                )

    def finish(self) -> None:
        """Mark the session finished (a replay reached the end of its data)."""
        with Session(self.engine) as db, db.begin():
            row = db.get(TraderSessionRow, self.config.session_id)
            if row is not None:
                row.status, row.updated_at = "finished", datetime.now(UTC)
