"""Benchmark the paper trader against the backtest of the same strategy on the same bars; print ratios, write JSON.

    python -m pipelines.bench.trader [--data sample:GOOG] [--out reports/trader_bench.json]

The trader recomputes the strategy's signals on every prefix and commits one transaction per bar
(SQLite in a temporary folder here); the backtest computes the signals once and simulates in the
compiled kernel. Both produce the same trades; this measures what the live loop's safety costs.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def measure(data: str, strategy: str, params: dict[str, Any]) -> dict[str, Any]:
    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings, run_backtest
    from tradeops.store.database import open_engine
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params
    from tradeops.trader.feed import ReplayFeed
    from tradeops.trader.loop import SessionConfig, Trader
    from tradeops.trader.risk import RiskLimits

    bars = load_bars(data)
    chosen = get_strategy(strategy)
    point = validate_params(chosen, params)
    run_backtest(chosen, point, bars, ExecutionSettings())  # compile and warm the kernel
    started = time.perf_counter()
    backtest = run_backtest(chosen, point, bars, ExecutionSettings())
    backtest_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'ledger.db'}")
        config = SessionConfig("bench", chosen, point, data, ExecutionSettings(), RiskLimits())
        started = time.perf_counter()
        Trader(engine, config).run(ReplayFeed(bars))
        replay_seconds = time.perf_counter() - started
        engine.dispose()
    return {
        "case": f"paper replay vs backtest: {strategy} {params} on {data} ({bars.n_bars} bars x {bars.n_symbols})",
        "bars": bars.n_bars,
        "trades": len(backtest.trades),
        "seconds": {"tradeops trader replay (SQLite ledger)": replay_seconds, "tradeops backtest": backtest_seconds},
        "replay_bars_per_second": bars.n_bars / replay_seconds,
        "replay_ms_per_bar": replay_seconds / bars.n_bars * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/trader_bench.json"))
    parser.add_argument("--data", default="sample:GOOG")
    args = parser.parse_args(argv)
    result = measure(args.data, "sma_cross", {"fast": 10, "slow": 30})
    replay, backtest = result["seconds"].values()
    print(result["case"])
    print(f"  trader replay  {replay:10.2f} s   {result['replay_bars_per_second']:8,.0f} bars/s")
    print(f"  backtest       {backtest * 1000:10.2f} ms  the replay takes {replay / backtest:,.0f}x the backtest")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
