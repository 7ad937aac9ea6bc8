"""Helpers for trader tests: a session over real bars on a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.apps.trader.venue_helpers import funded_venue
from tests.fakes.exchange import FakeBinance
from tradeops.data.bars import Bars
from tradeops.engine.settings import ExecutionSettings
from tradeops.store.database import open_engine
from tradeops.store.models import TraderEquityRow, TraderOrderRow, TraderTradeRow
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params
from tradeops.trader.loop import SessionConfig
from tradeops.trader.risk import RiskLimits


def session_config(
    session_id: str,
    strategy: str,
    params: dict[str, Any],
    data: str,
    limits: RiskLimits | None = None,
    **execution: Any,
) -> SessionConfig:
    chosen = get_strategy(strategy)
    return SessionConfig(
        session_id,
        chosen,
        validate_params(chosen, params),
        data,
        ExecutionSettings(**execution),
        limits or RiskLimits(),
    )


def ledger(engine: Engine, session_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the session wrote that defines its state, comparable across sessions."""
    with Session(engine) as db:
        orders = db.scalars(
            select(TraderOrderRow).where(TraderOrderRow.session_id == session_id).order_by(TraderOrderRow.id)
        )
        trades = db.scalars(
            select(TraderTradeRow).where(TraderTradeRow.session_id == session_id).order_by(TraderTradeRow.id)
        )
        curve = db.scalars(
            select(TraderEquityRow).where(TraderEquityRow.session_id == session_id).order_by(TraderEquityRow.bar)
        )
        return {
            "orders": [
                (
                    o.id.split(":", 1)[1],
                    o.symbol,
                    o.intent,
                    o.decided_bar,
                    o.status,
                    o.fill_bar,
                    o.price,
                    o.size,
                    o.fees,
                )
                for o in orders
            ],
            "trades": [(t.symbol, t.entry_bar, t.exit_bar, t.entry_price, t.exit_price, t.size, t.pnl) for t in trades],
            "equity": [(p.bar, p.equity, p.exposure) for p in curve],
        }


def head(bars: Bars, n: int) -> Bars:
    return bars.head(n)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh ledger (SQLite on disk) for one test."""
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield engine
    engine.dispose()


def orders(engine: Engine, session_id: str) -> list[TraderOrderRow]:
    """A session's orders, in id (decision) order."""
    with Session(engine) as db:
        query = select(TraderOrderRow).where(TraderOrderRow.session_id == session_id).order_by(TraderOrderRow.id)
        return list(db.scalars(query))


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    """The fake Binance, funded with USDT and two markets (venue_helpers.funded_venue); stopped after the test."""
    venue = funded_venue()
    yield venue
    venue.stop()
