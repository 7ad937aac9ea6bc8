"""Tables of the results store. Changing them needs a migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, String, Text
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

    __table_args__ = (
        Index("ix_runs_kind_created", "kind", "created_at"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_config_hash", "config_hash"),
    )
