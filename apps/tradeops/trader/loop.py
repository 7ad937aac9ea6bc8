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
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.data.bars import Bars
from tradeops.engine import kernel, sizing
from tradeops.engine.settings import DIRECTION_CODES, ExecutionSettings
from tradeops.errors import ConfigError, DataError
from tradeops.notify.base import Message, Notifier
from tradeops.store.models import TraderSessionRow
from tradeops.strategies.base import Strategy, StrategyParams
from tradeops.strategies.incremental import steps_for
from tradeops.trader import divergence, ledger, pretrade, risk
from tradeops.trader.broker import CLOSE, OPEN_LONG, OPEN_SHORT, Account, Broker, Execution, Order, PaperBroker
from tradeops.trader.connections import BarConnections
from tradeops.trader.control import RUNNING
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
        clock: Callable[[], float] = time.monotonic,
        venue: VenueSession | None = None,
    ) -> None:
        self.engine = engine
        self.connections = BarConnections(engine)  # each bar's transaction
        self.config = config
        self.broker = broker or PaperBroker(config.execution)
        self._paper_units_open = broker is None  # the paper broker takes the market's units from the first bars
        self.notifier = notifier
        self.heartbeat = heartbeat or (lambda: None)
        self.venue = venue  # a remote broker's hooks: intent committed before sending, reconciliation
        self.signals = steps_for(config.strategy, config.params)  # the new bar's signals only, exactly
        self.guard = pretrade.PretradeGuard(config.limits, clock=clock)
        self.divergence = divergence.DivergenceWatch(config, config.limits, venue.broker.is_flat if venue else None)
        self._checked: object = None  # the data (array) whose traded prefix was last checked against the ledger
        self.state: ledger.SessionState | None = None  # read back from the ledger at the first bar
        self._reload = False  # read the state back at the next bar even though the cursor did not move
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
                # the execution as today's model reads it: a session stored before a field was added or renamed
                # (fractional_units -> lot_size) resumes with the same settings
                stored["execution"] = ExecutionSettings.model_validate(row.execution).model_dump(mode="json")
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

    # -- the loop ----------------------------------------------------------------------------
    def run(self, feed: Feed, on_bar: Callable[[int], None] | None = None) -> int:
        """Process every bar the feed yields (telling `on_bar` after each); return the last bar processed."""
        with self.connections.holding():  # the bars share a connection while they come back to back
            for bars in feed.updates(self.last_bar):
                for t in range(self.last_bar + 1, bars.n_bars):
                    self.step(bars, t)
                    if on_bar is not None:
                        on_bar(t)
        return self.last_bar

    def step(self, bars: Bars, t: int) -> None:
        """Process bar `t` of `bars` in one transaction (a bar already processed is skipped)."""
        if self._paper_units_open:  # size in the units a backtest of these bars uses (`sizing.for_bars`)
            self.broker = PaperBroker(sizing.for_bars(self.config.execution, bars))
            self._paper_units_open = False
        messages: list[Message] = []
        sent: dict[str, Execution] = {}
        if self.venue is not None:
            verified = self._verified(bars, t)  # nothing goes to the venue on edited or shifted bars, restart or not
            sent = self.venue.send(self, bars, t, verified) if verified is not None else {}
            self._reload = True  # send wrote order statuses in its own transactions: read the ledger back
        try:
            with self.connections.transaction() as connection:
                state = self._locked(connection)
                if t <= state.last_bar:
                    self.last_bar = state.last_bar
                    return
                if t != state.last_bar + 1:
                    raise DataError(f"bar {t} arrived but the session stopped at bar {state.last_bar}")
                self._check_history(state, bars)
                if not state.symbols:
                    ledger.open_accounts(connection, state, bars.symbols, self.config.execution.cash)
                elif tuple(state.symbols) != bars.symbols:
                    raise DataError(
                        f"the feed's symbols {list(bars.symbols)} differ from the session's {state.symbols}"
                    )
                writes = ledger.BarWrites(time=bars.time(t))
                self._fill(connection, state, writes, bars, t, messages, sent)
                self._mark(connection, state, writes, bars, t, messages)
                self._decide(state, writes, bars, t)
                state.data_fingerprint = chain(state.data_fingerprint, bars, t)
                ledger.commit_bar(connection, state, writes, t)
        except BaseException:
            self.state = None  # the transaction rolled back: the memory may be ahead of the ledger
            raise
        state.last_bar = self.last_bar = t
        try:
            if self.venue is not None:
                messages += self.venue.after_bar(self, t)
            self.heartbeat()
        finally:  # the bar committed: what it has to tell goes out even when the reconciliation after it fails
            for message in messages:
                if self.notifier is not None:
                    self.notifier.send(message)

    def _verified(self, bars: Bars, t: int) -> ledger.SessionState | None:
        """The ledger's state, its traded history checked against `bars`, before anything is sent for bar `t`
        (read back from the ledger when this process has none yet: a restart checks before it sends)."""
        state = self.state
        if state is None:
            with self.engine.connect() as connection:
                state = ledger.load(connection, self.config.session_id)
            self._checked = None
        if state is None or state.last_bar != t - 1:
            return None  # not the next bar: the bar's transaction says what is wrong
        self._check_history(state, bars)
        return state

    def _locked(self, connection: Connection) -> ledger.SessionState:
        """Lock the session row and return its state: from memory while the stored last bar is the one it
        holds, else read back from the ledger (start and recovery: one path)."""
        controlled = ledger.lock(connection, self.config.session_id)
        if controlled is None:
            raise ConfigError(f"trading session {self.config.session_id!r} disappeared")
        if self.state is None or self._reload or self.state.last_bar != controlled["last_bar"]:
            loaded, known = ledger.load(connection, self.config.session_id), self.state
            if (
                loaded is None
                or known is None
                or (known.last_bar, known.data_fingerprint)
                != (
                    loaded.last_bar,
                    loaded.data_fingerprint,
                )
            ):
                self._checked = None  # other bars than those checked: check the history again
            self.state, self._reload = loaded, False
        assert self.state is not None  # locked just now, in this transaction
        for name in ledger.CONTROLLED:  # the kill switch's changes, made between bars
            setattr(self.state, name, controlled[name])
        return self.state

    def _check_history(self, state: ledger.SessionState, bars: Bars) -> None:
        """Refuse bars whose already-traded part differs from what the session traded (edited or shifted data).

        Checked once per data source (a replay's heads share one array; each poll of a live file is new),
        so the hot path only extends the chained fingerprint by one bar.
        """
        source = bars.close.base if bars.close.base is not None else bars.close
        if state.last_bar < 0 or self._checked is source:
            return
        fingerprint = None
        for t in range(min(state.last_bar + 1, bars.n_bars)):
            fingerprint = chain(fingerprint, bars, t)
        if bars.n_bars <= state.last_bar or fingerprint != state.data_fingerprint:
            raise DataError(
                f"{bars.name}: the first {state.last_bar + 1} bars differ from those session {state.session_id!r} "
                "already traded (edited, shifted or another data set); start a new session for new data"
            )
        self._checked = source

    def _fill(
        self,
        connection: Connection,
        state: ledger.SessionState,
        writes: ledger.BarWrites,
        bars: Bars,
        t: int,
        messages: list[Message],
        sent: dict[str, Execution],
    ) -> None:
        """Fill the pending orders at this bar's open; `sent` holds a venue's answers to the orders already sent."""
        pending, state.pending = state.pending, []
        for order in pending:
            account = state.accounts[order.symbol]
            s = bars.symbols.index(order.symbol)
            price = float(bars.open[t, s])
            reason = None if order.id in sent else risk.blocked(state.state, order.intent == CLOSE)
            if reason is not None:
                writes.settle(order.id, "rejected", reason)
                continue
            request = Order(order.id, order.symbol, order.intent)
            max_size = self.max_size(price)
            done = sent.get(order.id) or self.broker.lookup(order.id)
            if done is None and self.venue is not None:  # only the gateway sends to a venue (venue/gateway.py)
                writes.settle(order.id, "rejected", "not sent: the venue gateway did not take it at this bar")
                continue
            if done is None:  # paper: the pre-trade checks judge it now
                rejection = self.pretrade(connection, state.accounts, request, bars, t, price, messages)
                if rejection is not None:
                    writes.settle(order.id, "rejected", rejection.describe())
                    continue
                done = self.broker.execute(request, account, price=price, bar=t, max_size=max_size)
            fill_time = writes.time
            if not done.filled:
                status = "rejected" if done.rejected else "unfilled"
                writes.settle(order.id, status, done.reason, fill_bar=t, fill_time=fill_time)
                continue
            writes.settle(
                order.id, "filled", fill_bar=t, fill_time=fill_time, price=done.price, size=done.size, fees=done.fees,
                other_fees=done.other_fees,
            )  # fmt: skip
            state.accounts[order.symbol] = writes.accounts[order.symbol] = done.account
            if done.closed is not None:
                writes.close(order.symbol, done.closed)

    def max_size(self, price: float) -> float:
        """The largest entry the notional limit allows at `price` (with headroom for ordinary moves)."""
        cap = self.config.limits.max_position_notional
        return NOTIONAL_HEADROOM * cap / (price * (1 + self.config.execution.slippage)) if cap else np.inf

    def pretrade(
        self,
        connection: Connection,
        accounts: dict[str, Account],
        request: Order,
        bars: Bars,
        t: int,
        price: float,
        messages: list[Message],
    ) -> pretrade.Rejection | None:
        """The first pre-trade limit the order breaks as the broker would send it, or None (see pretrade.py);
        a rejection is audited in `connection`'s transaction. Every order passes here, paper and venue alike."""
        account = accounts[request.symbol]
        proposal = self.broker.propose(request, account, price=price, max_size=self.max_size(price))
        if proposal is None:  # nothing would be sent: execute reports why
            return None
        opens = bars.open[t]
        context = self.guard.context(
            last_close=float(bars.close[t - 1, bars.symbols.index(request.symbol)]) if t > 0 else price,
            notionals={name: abs(a.position * float(opens[bars.symbols.index(name)])) for name, a in accounts.items()},
            balance=account.free_cash,
        )
        return self.guard.judge(connection, self.config.session_id, proposal, context, bar=t, messages=messages)

    def _mark(
        self,
        connection: Connection,
        state: ledger.SessionState,
        writes: ledger.BarWrites,
        bars: Bars,
        t: int,
        messages: list[Message],
    ) -> None:
        close = {symbol: float(bars.close[t, s]) for s, symbol in enumerate(bars.symbols)}
        accounts = state.accounts
        equity = sum(accounts[symbol].cash + accounts[symbol].position * close[symbol] for symbol in state.symbols)
        notionals = {symbol: abs(accounts[symbol].position * close[symbol]) for symbol in state.symbols}
        peak = state.peak_equity = max(state.peak_equity, equity)
        day = writes.time.date().isoformat()
        if state.day != day:
            previous = state.last_equity
            state.day, state.day_start_equity = day, previous if previous is not None else self.config.execution.cash
        state.last_equity = equity
        writes.equity = {
            "equity": equity,
            "exposure": sum(notionals.values()),
            "drawdown_pct": (1 - equity / peak) * 100,
        }
        found = (
            risk.breaches(
                self.config.limits, equity=equity, peak=peak, day_start=state.day_start_equity, notionals=notionals
            )
            + self.guard.burst(connection, state.session_id, t, uncommitted=pretrade.rejections(writes.orders))
            + self.divergence.breaches(connection, state.session_id, accounts, writes.trades, bars, t, equity)
        )
        new_state = risk.escalate(state.state, found)
        if new_state != state.state:
            reason = "; ".join(b.describe() for b in found)
            audit.append(
                connection,
                actor=RISK_ENGINE,
                action=f"trader.{new_state}",
                target=state.session_id,
                outcome="applied",
                detail={"from": state.state, "to": new_state, "reason": reason, "bar": t},
            )
            state.state, state.state_reason = new_state, reason
            messages.append(
                Message(
                    kind="trader_state",
                    title=f"Trader {state.session_id} is now {new_state.upper()}",
                    fields={"equity": f"{equity:,.2f}", "bar": bars.index[t].isoformat()},
                    lines=[reason, "Resume with `tradeops trader resume` once the cause is understood."],
                    thread_key=f"trader-{state.session_id}",
                    ok=False,
                )
            )

    def _decide(self, state: ledger.SessionState, writes: ledger.BarWrites, bars: Bars, t: int) -> None:
        entries, exits, short_entries, short_exits = (a[:, 0] for a in self.signals.at(bars, t))
        direction = DIRECTION_CODES[self.config.execution.direction]
        stamp = None  # when the orders were decided: now, read once for the bar's orders
        for s, symbol in enumerate(bars.symbols):
            go_long, go_short, leave_long, leave_short = kernel.decide(  # the backtest's own rules
                entries[s], exits[s], short_entries[s], short_exits[s], direction
            )
            position = state.accounts[symbol].position
            if self.venue is not None and self.venue.broker.is_flat(symbol, position):
                position = 0.0  # fee dust below the venue's smallest order cannot be sold: flat
            intents = []
            if (position > 0 and leave_long) or (position < 0 and leave_short):
                intents.append(CLOSE)
            if (go_long or go_short) and (position == 0 or intents):
                intents.append(OPEN_LONG if go_long else OPEN_SHORT)
            for n, intent in enumerate(intents):
                stamp = stamp or datetime.now(UTC)
                order_id = f"{state.session_id}:{t + 1:09d}:{s:04d}:{n}"
                reason = risk.blocked(state.state, intent == CLOSE)
                writes.new_orders.append(
                    {
                        "id": order_id,
                        "symbol": symbol,
                        "intent": intent,
                        "decided_bar": t,
                        "status": "rejected" if reason else "pending",
                        "reason": reason,
                        "created_at": stamp,
                    }
                )
                if reason is None:
                    state.pending.append(ledger.PendingOrder(order_id, symbol, intent))

    def finish(self) -> None:
        """Mark the session finished (a replay reached the end of its data)."""
        with Session(self.engine) as db, db.begin():
            row = db.get(TraderSessionRow, self.config.session_id)
            if row is not None:
                row.status, row.updated_at = "finished", datetime.now(UTC)
