"""The trading loop's statements: a session's state kept in memory between bars, written with few Core statements.

A bar costs one UPDATE of the session row that takes the write lock and returns what the kill switch
may have changed (state, reason, peak and day-start equity) with the stored last bar; then the bar's
rows (order updates, account updates and trades only when orders were pending, one equity row, new
orders only when there are any); then one UPDATE that advances the cursor. Everything else the loop
needs (accounts, pending orders, the last equity) stays in memory. Crash-only: `load` is the one way
in, at start and whenever the stored last bar is not the one the memory holds (another process
advanced the session, or a transaction rolled back).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from tradeops.store.models import (
    TraderAccountRow,
    TraderEquityRow,
    TraderOrderRow,
    TraderSessionRow,
    TraderTradeRow,
)
from tradeops.trader.broker import Account, ClosedTrade

SESSIONS = cast(Table, TraderSessionRow.__table__)
ACCOUNTS = cast(Table, TraderAccountRow.__table__)
ORDERS = cast(Table, TraderOrderRow.__table__)
TRADES = cast(Table, TraderTradeRow.__table__)
EQUITY = cast(Table, TraderEquityRow.__table__)
ACCOUNT_FIELDS = tuple(Account.__dataclass_fields__)
ORDER_OUTCOME = ("status", "reason", "fill_bar", "fill_time", "price", "size", "fees")
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

    The kill switch enters through `control.lock_session`, which writes the row first too, so a halt
    or a resume is either wholly before this bar or wholly after it.
    """
    row = connection.execute(_LOCK, {"session_key": session_id, "updated_at": datetime.now(UTC)}).mappings().first()
    return None if row is None else dict(row)


def open_accounts(connection: Connection, state: SessionState, symbols: tuple[str, ...], cash: float) -> None:
    """The first bar fixes the symbols: one account each with an equal share of the cash, as in the engine."""
    state.symbols = list(symbols)
    state.accounts = {symbol: Account.opening(cash / len(symbols)) for symbol in symbols}
    connection.execute(
        insert(ACCOUNTS),
        [{"session_id": state.session_id, "symbol": s, **asdict(a)} for s, a in state.accounts.items()],
    )


def commit_bar(connection: Connection, state: SessionState, writes: BarWrites, bar: int) -> None:
    """Write one bar's rows and advance the session's cursor to `bar` (the caller's transaction commits).

    The statements are built once (below), so a bar pays for executing them, not for compiling them.
    """
    session_id, time = state.session_id, writes.time
    if writes.orders:
        connection.execute(_SETTLE_ORDER, writes.orders)
    if writes.accounts:
        connection.execute(
            _UPDATE_ACCOUNT,
            [{"session_key": session_id, "account_symbol": s, **asdict(a)} for s, a in writes.accounts.items()],
        )
    if writes.trades:
        connection.execute(_INSERT_TRADE, [{"session_id": session_id, **t} for t in writes.trades])
    connection.execute(_INSERT_EQUITY, {"session_id": session_id, "bar": bar, "time": time, **writes.equity})
    if writes.new_orders:
        connection.execute(_INSERT_ORDER, [{"session_id": session_id, **o} for o in writes.new_orders])
    connection.execute(
        _ADVANCE,
        {
            "session_key": session_id,
            "symbols": state.symbols,
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


_LOCK = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("session_key"))
    .values(updated_at=bindparam("updated_at"))
    .returning(*(SESSIONS.c[name] for name in CONTROLLED))
)
_ADVANCE = update(SESSIONS).where(SESSIONS.c.id == bindparam("session_key"))  # SET: the parameters' keys
_SETTLE_ORDER = (
    update(ORDERS).where(ORDERS.c.id == bindparam("order_id")).values({name: bindparam(name) for name in ORDER_OUTCOME})
)
_UPDATE_ACCOUNT = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.session_id == bindparam("session_key"), ACCOUNTS.c.symbol == bindparam("account_symbol"))
    .values({name: bindparam(name) for name in ACCOUNT_FIELDS})
)
_INSERT_TRADE, _INSERT_EQUITY, _INSERT_ORDER = insert(TRADES), insert(EQUITY), insert(ORDERS)
