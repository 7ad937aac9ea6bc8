"""A session's ledger as a backtest result: `trader replay --json` prints what `backtest run --json` does."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradeops.data.bars import Bars
from tradeops.engine import kernel, metrics
from tradeops.engine.backtest import BacktestResult, metrics_for, trades_frame
from tradeops.store.models import TraderAccountRow, TraderEquityRow, TraderSessionRow, TraderTradeRow
from tradeops.trader.loop import SessionConfig


def _records(rows: Sequence[tuple[float, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(kernel.TRADE_FIELDS))


def session_result(engine: Engine, config: SessionConfig, bars: Bars) -> BacktestResult:
    """Build the result of a session that traded `bars` (every bar processed)."""
    with Session(engine) as db:
        session = db.get(TraderSessionRow, config.session_id)
        if session is None or session.last_bar != bars.n_bars - 1:
            raise RuntimeError(f"session {config.session_id} has not processed all {bars.n_bars} bars")
        curve = db.scalars(
            select(TraderEquityRow).where(TraderEquityRow.session_id == config.session_id).order_by(TraderEquityRow.bar)
        ).all()
        closed = db.scalars(
            select(TraderTradeRow).where(TraderTradeRow.session_id == config.session_id).order_by(TraderTradeRow.id)
        ).all()
        accounts = {
            a.symbol: a
            for a in db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == config.session_id))
        }
    equity = np.array([point.equity for point in curve])
    exposed = np.array([point.exposure > 0 for point in curve])
    pnls = np.array([trade.pnl for trade in closed])
    raw = metrics.raw_from_history(config.execution.cash, equity, exposed, pnls, metrics.elapsed_days(bars.index))
    last = bars.n_bars - 1
    still_open = []  # marked at the last close, as the backtest reports them
    for s, symbol in enumerate(bars.symbols):
        a, close = accounts[symbol], float(bars.close[last, s])
        if a.position != 0:
            pnl = a.cash + a.position * close - a.cash_before
            still_open.append((s, a.entry_bar, a.entry_price, -1, close, a.position, pnl, a.entry_fees))
    trades = trades_frame(
        _records(
            [
                (
                    bars.symbols.index(t.symbol),
                    t.entry_bar,
                    t.entry_price,
                    t.exit_bar,
                    t.exit_price,
                    t.size,
                    t.pnl,
                    t.fees,
                )
                for t in closed
            ]
        ),
        bars,
    )
    return BacktestResult(
        strategy=config.strategy.name,
        params=config.params.model_dump(),
        bars=bars,
        settings=config.execution,
        metrics={name: float(v[0]) for name, v in metrics_for(raw, bars, config.execution).items()},
        equity=pd.Series(equity, index=bars.index, name="equity"),
        trades=trades.sort_values("entry_time", kind="stable").reset_index(drop=True),
        open_trades=trades_frame(_records(still_open), bars),
    )
