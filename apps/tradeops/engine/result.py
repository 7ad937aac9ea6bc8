"""The JSON shape of a backtest, shared by the CLI, the API and the trader's replay."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tradeops import __version__
from tradeops.engine.backtest import BacktestResult, json_number

ENGINE_VERSION = f"tradeops {__version__}"  # what stored runs record as the engine that produced them


def _time(value: Any) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).isoformat()


def _trades(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "symbol": row["symbol"],
            "entry_time": _time(row["entry_time"]),
            "entry_price": json_number(row["entry_price"]),
            "exit_time": _time(row["exit_time"]),
            "exit_price": json_number(row["exit_price"]),
            "size": json_number(row["size"]),
            "pnl": json_number(row["pnl"]),
            "return_pct": json_number(row["return_pct"]),
            "fees": json_number(row["fees"]),
        }
        for row in frame.to_dict("records")
    ]


def result_to_dict(result: BacktestResult) -> dict[str, Any]:
    """Return the object `tradeops backtest run --json` prints."""
    bars = result.bars
    return {
        "strategy": result.strategy,
        "params": result.params,
        "data": {
            "name": bars.name,
            "fingerprint": bars.fingerprint(),
            **bars.provenance(),
            "start": bars.index[0].isoformat(),
            "end": bars.index[-1].isoformat(),
            "bars": bars.n_bars,
        },
        "execution": result.settings.model_dump(mode="json"),
        "initial_cash": result.settings.cash,
        "final_equity": json_number(float(result.equity.iloc[-1])),
        "metrics": {name: json_number(value) for name, value in result.metrics.items()},
        "trades": _trades(result.trades),
        "open_trades": _trades(result.open_trades),
        "engine": {"name": "tradeops", "version": __version__, "core": "vectorbt buy_nb/sell_nb"},
    }
