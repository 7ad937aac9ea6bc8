"""The trading loop's statements: a session's state kept in memory between bars, written with few statements.

A bar costs one UPDATE of the session row that takes the write lock and returns what the kill switch
may have changed (state, reason, peak and day-start equity) with the stored last bar; then the bar's
rows (order updates, account updates and trades only when orders were pending, one equity row, new
orders only when there are any); then one UPDATE that advances the cursor. Everything else the loop
needs (accounts, pending orders, the last equity) stays in memory. The statements are Core statements
compiled once per dialect and run on the bar's DBAPI cursor (store/prepared.py), in the bar's one
transaction. Crash-only: `load` is the one way in, at start and whenever the stored last bar is not
the one the memory holds (another process advanced the session, or a transaction rolled back).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Dialect

from tradeops.store.models import (
    TraderAccountRow,
    TraderEquityRow,
    TraderOrderRow,
    TraderSessionRow,
    TraderTradeRow,
)
from tradeops.store.prepared import Prepared
from tradeops.trader.broker import Account, ClosedTrade

SESSIONS = cast(Table, TraderSessionRow.__table__)
ACCOUNTS = cast(Table, TraderAccountRow.__table__)
ORDERS = cast(Table, TraderOrderRow.__table__)
TRADES = cast(Table, TraderTradeRow.__table__)
EQUITY = cast(Table, TraderEquityRow.__table__)
ACCOUNT_FIELDS = tuple(Account.__dataclass_fields__)
ORDER_OUTCOME = ("status", "reason", "fill_bar", "fill_time", "price", "size", "fees", "other_fees")
CONTROLLED = ("last_bar", "state", "state_reason", "peak_equity", "day_start_equity")  # read under the lock


@dataclass(frozen=True)
class PendingOrder:
    """An order decided at a close, to fill at the next open (`sent`: a venue order whose intent is recorded)."""

    id: str
    symbol: str
    intent: str


@dataclass
class SessionState:
    """What the loop knows of its session between bars; `load` rebuilds it from the ledger."""

    session_id: str
    last_bar: int
    symbols: list[str]
    state: str
    state_reason: str | None
    peak_equity: float
    day: str | None
    day_start_equity: float
    data_fingerprint: str | None
    last_equity: float | None  # equity at the last bar's close (None before the first bar)
    accounts: dict[str, Account] = field(default_factory=dict)
    pending: list[PendingOrder] = field(default_factory=list)


@dataclass
class BarWrites:
    """The rows one bar adds or changes, written together by `commit_bar`."""

    time: datetime  # the bar's time
    orders: list[dict[str, Any]] = field(default_factory=list)  # updates of the orders filled or refused
    accounts: dict[str, Account] = field(default_factory=dict)  # accounts a fill changed
    trades: list[dict[str, Any]] = field(default_factory=list)
    new_orders: list[dict[str, Any]] = field(default_factory=list)
    equity: dict[str, Any] = field(default_factory=dict)

    def settle(self, order_id: str, status: str, reason: str | None = None, **fill: Any) -> None:
        """Record how a pending order ended: rejected, unfilled or filled (with fill_bar, fill_time, price, ...)."""
        outcome = dict.fromkeys(ORDER_OUTCOME) | fill | {"status": status, "reason": reason}
        self.orders.append({"order_id": order_id, **outcome})

    def close(self, symbol: str, trade: ClosedTrade) -> None:
        self.trades.append({"symbol": symbol, **asdict(trade)})


def load(connection: Connection, session_id: str) -> SessionState | None:
    """Read a session's state back from the ledger (None when there is no such session)."""
    row = connection.execute(select(SESSIONS).where(SESSIONS.c.id == session_id)).mappings().first()
    if row is None:
        return None
    accounts = {
        a["symbol"]: Account(**{name: a[name] for name in ACCOUNT_FIELDS})
        for a in connection.execute(select(ACCOUNTS).where(ACCOUNTS.c.session_id == session_id)).mappings()
    }
    pending = [
        PendingOrder(o.id, o.symbol, o.intent)
        for o in connection.execute(
            select(ORDERS.c.id, ORDERS.c.symbol, ORDERS.c.intent)
            .where(ORDERS.c.session_id == session_id, ORDERS.c.status.in_(("pending", "sent")))
            .order_by(ORDERS.c.id)
        )
    ]
    return SessionState(
        session_id=session_id,
        last_bar=row["last_bar"],
        symbols=list(row["symbols"]),
        state=row["state"],
        state_reason=row["state_reason"],
        peak_equity=row["peak_equity"],
        day=row["day"],
        day_start_equity=row["day_start_equity"],
        data_fingerprint=row["data_fingerprint"],
        last_equity=equity_at(connection, session_id, row["last_bar"]),
        accounts=accounts,
        pending=pending,
    )


def equity_at(connection: Connection, session_id: str, bar: int) -> float | None:
    """The equity stored at a bar's close, or None."""
    return connection.execute(
        select(EQUITY.c.equity).where(EQUITY.c.session_id == session_id, EQUITY.c.bar == bar)
    ).scalar()


def lock(connection: Connection, session_id: str) -> dict[str, Any] | None:
    """Take the session row's write lock (SQLite: the database's; PostgreSQL: the row's) and return the
    fields the kill switch may change, with the stored last bar; None when the session is gone.

    The write changes nothing (last_bar = last_bar; the bar's advance stamps updated_at). The kill switch
    enters through `control.lock_session`, which writes the row first too, so a halt or a resume is either
    wholly before this bar or wholly after it.
    """
    row = _statements(connection.dialect).lock.first(connection, {"session_key": session_id})
    return None if row is None else dict(zip(CONTROLLED, row, strict=True))


def open_accounts(connection: Connection, state: SessionState, symbols: tuple[str, ...], cash: float) -> None:
    """The first bar fixes the symbols: one account each with an equal share of the cash, as in the engine."""
    state.symbols = list(symbols)
    state.accounts = {symbol: Account.opening(cash / len(symbols)) for symbol in symbols}
    connection.execute(
        insert(ACCOUNTS),
        [{"session_id": state.session_id, "symbol": s, **asdict(a)} for s, a in state.accounts.items()],
    )
    connection.execute(update(SESSIONS).where(SESSIONS.c.id == state.session_id).values(symbols=state.symbols))


def commit_bar(connection: Connection, state: SessionState, writes: BarWrites, bar: int) -> None:
    """Write one bar's rows and advance the session's cursor to `bar` (the caller's transaction commits).

    The statements are compiled once per dialect (`Statements`), so a bar pays for executing them only.
    """
    statements = _statements(connection.dialect)
    session_id, time = state.session_id, writes.time
    if writes.orders:
        statements.settle_order.executemany(connection, writes.orders)
    if writes.accounts:
        statements.update_account.executemany(
            connection,
            [{"session_key": session_id, "account_symbol": s, **asdict(a)} for s, a in writes.accounts.items()],
        )
    if writes.trades:
        statements.insert_trade.executemany(connection, [{"session_id": session_id, **t} for t in writes.trades])
    statements.insert_equity.execute(connection, {"session_id": session_id, "bar": bar, "time": time, **writes.equity})
    if writes.new_orders:
        statements.insert_order.executemany(connection, [{"session_id": session_id, **o} for o in writes.new_orders])
    statements.advance.execute(
        connection,
        {
            "session_key": session_id,
            "last_bar": bar,
            "last_time": time,
            "updated_at": datetime.now(UTC),
            "data_fingerprint": state.data_fingerprint,
            "peak_equity": state.peak_equity,
            "day": state.day,
            "day_start_equity": state.day_start_equity,
            "state": state.state,
            "state_reason": state.state_reason,
        },
    )


# What a bar's advance writes: the cursor, the fingerprint and the risk state (the symbols: once, at the first bar).
ADVANCED = (
    *("last_bar", "last_time", "updated_at", "data_fingerprint"),
    *("peak_equity", "day", "day_start_equity", "state", "state_reason"),
)
EQUITY_FIELDS = ("session_id", "bar", "time", "equity", "exposure", "drawdown_pct")
TRADE_FIELDS = ("session_id", "symbol", *ClosedTrade.__dataclass_fields__)
ORDER_FIELDS = ("session_id", "id", "symbol", "intent", "decided_bar", "status", "reason", "created_at")


class Statements:
    """The loop's statements, compiled for one dialect (store/prepared.py)."""

    def __init__(self, dialect: Dialect) -> None:
        by_key = SESSIONS.c.id == bindparam("session_key")
        self.lock = Prepared(
            update(SESSIONS).where(by_key).values(last_bar=SESSIONS.c.last_bar).returning(*SESSIONS.c[CONTROLLED]),
            dialect,
        )
        self.advance = Prepared(update(SESSIONS).where(by_key), dialect, ADVANCED)
        self.settle_order = Prepared(update(ORDERS).where(ORDERS.c.id == bindparam("order_id")), dialect, ORDER_OUTCOME)
        account = ACCOUNTS.c.session_id == bindparam("session_key"), ACCOUNTS.c.symbol == bindparam("account_symbol")
        self.update_account = Prepared(update(ACCOUNTS).where(*account), dialect, ACCOUNT_FIELDS)
        self.insert_trade = Prepared(insert(TRADES), dialect, TRADE_FIELDS)
        self.insert_equity = Prepared(insert(EQUITY), dialect, EQUITY_FIELDS)
        self.insert_order = Prepared(insert(ORDERS), dialect, ORDER_FIELDS)


@functools.lru_cache(maxsize=16)
def _statements(dialect: Dialect) -> Statements:
    """The statements for a dialect (one per engine), compiled at its first bar."""
    return Statements(dialect)
