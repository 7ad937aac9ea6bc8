"""A session's ledger as a backtest result: `trader replay --json` prints what `backtest run --json` does."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradeops.data.bars import Bars
from tradeops.engine import metrics
from tradeops.engine.backtest import BacktestResult, metrics_for
from tradeops.store.models import TraderAccountRow, TraderEquityRow, TraderSessionRow, TraderTradeRow
from tradeops.trader.loop import SessionConfig


def _frame(rows: list[dict[str, object]], bars: Bars) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["symbol", "entry_bar", "entry_price", "exit_bar", "exit_price", "size", "pnl", "fees"]
    )
    return pd.DataFrame(
        {
            "symbol": frame["symbol"],
            "entry_time": bars.index[frame["entry_bar"].to_numpy(dtype=np.int64)],
            "entry_price": frame["entry_price"].astype(float),
            "exit_time": [bars.index[int(i)] if i >= 0 else pd.NaT for i in frame["exit_bar"]],
            "exit_price": frame["exit_price"].astype(float),
            "size": frame["size"].astype(float),
            "pnl": frame["pnl"].astype(float),
            "return_pct": frame["pnl"] / (frame["size"].abs() * frame["entry_price"]) * 100,
            "fees": frame["fees"].astype(float),
        }
    )


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
    raw = metrics.raw_from_history(config.execution.cash, equity, exposed, pnls)
    last = bars.n_bars - 1
    still_open = [
        {
            "symbol": symbol,
            "entry_bar": a.entry_bar,
            "entry_price": a.entry_price,
            "exit_bar": -1,
            "exit_price": float(bars.close[last, s]),
            "size": a.position,
            "pnl": a.cash + a.position * float(bars.close[last, s]) - a.cash_before,
            "fees": a.entry_fees,
        }
        for s, symbol in enumerate(bars.symbols)
        if (a := accounts[symbol]).position != 0
    ]
    trades = _frame(
        [
            {
                "symbol": t.symbol,
                **{
                    k: getattr(t, k)
                    for k in ("entry_bar", "entry_price", "exit_bar", "exit_price", "size", "pnl", "fees")
                },
            }
            for t in closed
        ],
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
        open_trades=_frame(still_open, bars),
    )
