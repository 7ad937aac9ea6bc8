"""Tables of the results store. Changing them needs a migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every tradeops table."""


class RunRow(Base):
    """One backtest, sweep or gate run: what was asked, on which data, by which engine, and what came out."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # backtest | sweep | gate
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed | cancelled
    source: Mapped[str] = mapped_column(String(16))  # api | watch | cli
    strategy: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_ref: Mapped[str] = mapped_column(String(512))
    data_fingerprint: Mapped[str | None] = mapped_column(String(80))
    engine_version: Mapped[str | None] = mapped_column(String(64))
    config_hash: Mapped[str | None] = mapped_column(String(80))
    owner: Mapped[str | None] = mapped_column(String(128))  # the service instance that runs it
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    report_key: Mapped[str | None] = mapped_column(String(256))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a running run's claim
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # when its holder last renewed it
    idempotency_key: Mapped[str | None] = mapped_column(String(128))  # the client's Idempotency-Key, when given
    request_hash: Mapped[str | None] = mapped_column(String(64))  # of the body that key was first sent with

    __table_args__ = (
        Index("ix_runs_kind_created", "kind", "created_at"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_config_hash", "config_hash"),
        Index("ux_runs_idempotency_key", "idempotency_key", unique=True),
        Index("ix_runs_status_created", "status", "created_at"),
    )


class TraderSessionRow(Base):
    """One trading session: what it trades, how, where its loop stands, and its control state."""

    __tablename__ = "trader_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_ref: Mapped[str] = mapped_column(String(512))
    symbols: Mapped[list[str]] = mapped_column(JSON)
    execution: Mapped[dict[str, Any]] = mapped_column(JSON)
    risk: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # running | halted | reducing
    state_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # active | finished
    last_bar: Mapped[int] = mapped_column(Integer)  # -1 before the first bar
    last_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    data_fingerprint: Mapped[str | None] = mapped_column(String(80))  # of the bars traded so far
    peak_equity: Mapped[float] = mapped_column(Float)
    day: Mapped[str | None] = mapped_column(String(10))  # the trading day of day_start_equity
    day_start_equity: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TraderAccountRow(Base):
    """A symbol's account in a session (the engine keeps one account per symbol)."""

    __tablename__ = "trader_accounts"

    session_id: Mapped[str] = mapped_column(ForeignKey("trader_sessions.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    cash: Mapped[float] = mapped_column(Float)
    position: Mapped[float] = mapped_column(Float)
    debt: Mapped[float] = mapped_column(Float)
    free_cash: Mapped[float] = mapped_column(Float)
    entry_bar: Mapped[int] = mapped_column(Integer)
    entry_price: Mapped[float] = mapped_column(Float)
    entry_fees: Mapped[float] = mapped_column(Float)
    cash_before: Mapped[float] = mapped_column(Float)  # cash before the open trade's entry


class TraderOrderRow(Base):
    """An order, from decision to fill or rejection; its id is the client order id sent to the broker."""

    __tablename__ = "trader_orders"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("trader_sessions.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(64))
    intent: Mapped[str] = mapped_column(String(16))  # open_long | open_short | close
    decided_bar: Mapped[int] = mapped_column(Integer)
    # pending | sent (intent recorded, the venue's answer not yet) | flattening (the same, a flatten's: the loop
    # never adopts it) | filled | rejected | unfilled
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    fill_bar: Mapped[int | None] = mapped_column(Integer)
    fill_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    price: Mapped[float | None] = mapped_column(Float)
    size: Mapped[float | None] = mapped_column(Float)
    fees: Mapped[float | None] = mapped_column(Float)
    # fees the venue charged in assets other than the market's own (BNB), per asset: reconciliation counts them
    other_fees: Mapped[dict[str, float] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_trader_orders_session_status", "session_id", "status"),)


class TraderTradeRow(Base):
    """A closed trade of a session."""

    __tablename__ = "trader_trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("trader_sessions.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    entry_bar: Mapped[int] = mapped_column(Integer)
    entry_price: Mapped[float] = mapped_column(Float)
    exit_bar: Mapped[int] = mapped_column(Integer)
    exit_price: Mapped[float] = mapped_column(Float)
    size: Mapped[float] = mapped_column(Float)
    pnl: Mapped[float] = mapped_column(Float)
    fees: Mapped[float] = mapped_column(Float)


class TraderEquityRow(Base):
    """Equity of a session at one bar's close."""

    __tablename__ = "trader_equity"

    session_id: Mapped[str] = mapped_column(ForeignKey("trader_sessions.id", ondelete="CASCADE"), primary_key=True)
    bar: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    equity: Mapped[float] = mapped_column(Float)
    exposure: Mapped[float] = mapped_column(Float)  # gross notional of open positions at the close
    drawdown_pct: Mapped[float] = mapped_column(Float)


class TraderDivergenceRow(Base):
    """A session against a backtest of the same candidate on the same bars, at one bar's close."""

    __tablename__ = "trader_divergence"

    session_id: Mapped[str] = mapped_column(ForeignKey("trader_sessions.id", ondelete="CASCADE"), primary_key=True)
    bar: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    trades_live: Mapped[int] = mapped_column(Integer)  # trades opened so far (closed and open)
    trades_backtest: Mapped[int] = mapped_column(Integer)
    position_gap: Mapped[float] = mapped_column(Float)  # sum over symbols of |live - backtest| position x close
    equity_live: Mapped[float] = mapped_column(Float)
    equity_backtest: Mapped[float] = mapped_column(Float)
    equity_drift_bps: Mapped[float] = mapped_column(Float)  # (live - backtest) / backtest, basis points
    slippage_bps: Mapped[float] = mapped_column(Float)  # mean adverse fill price against the modelled one, bps
    fills: Mapped[int] = mapped_column(Integer)  # fills the slippage is the mean of


class AuditRow(Base):
    """Who did what, when, to what, and how it ended (kill switch, Slack commands, ...)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class DashboardSessionRow(Base):
    """A browser logged in to the dashboard; the cookie holds only the random id whose SHA-256 is the key."""

    __tablename__ = "dashboard_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(String(128))
    csrf: Mapped[str] = mapped_column(String(64))
    token_fingerprint: Mapped[str] = mapped_column(String(64))  # of the API token it was issued under
    created_at: Mapped[float] = mapped_column(Float)  # Unix seconds: compares alike on SQLite and PostgreSQL
    expires_at: Mapped[float] = mapped_column(Float, index=True)
