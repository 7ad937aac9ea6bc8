"""Benchmark the paper trader against the backtest of the same strategy on the same bars; print ratios, write JSON.

    python -m pipelines.bench.trader [--data sample:GOOG] [--strategy sma_cross] [--param fast=10 ...]
                                     [--commands] [--out reports/trader_bench.json]

The trader computes the new bar's signals only and commits one transaction per bar (SQLite on disk
in a temporary folder here); the backtest computes the signals once and simulates in the compiled
kernel. Both produce the same trades; this measures what the live loop's safety costs, in process
and, with `--commands`, as whole `tradeops trader replay` and `tradeops backtest run` processes.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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
        started, cpu_started = time.perf_counter(), time.process_time()
        Trader(engine, config).run(ReplayFeed(bars))
        replay_seconds = time.perf_counter() - started
        replay_cpu_seconds = time.process_time() - cpu_started  # this process's CPU: less swayed by other work
        engine.dispose()
    return {
        "case": f"paper replay vs backtest: {strategy} {params} on {data} ({bars.n_bars} bars x {bars.n_symbols})",
        "bars": bars.n_bars,
        "trades": len(backtest.trades),
        "seconds": {"tradeops trader replay (SQLite ledger)": replay_seconds, "tradeops backtest": backtest_seconds},
        "replay_bars_per_second": bars.n_bars / replay_seconds,
        "replay_ms_per_bar": replay_seconds / bars.n_bars * 1000,
        "replay_cpu_bars_per_second": bars.n_bars / replay_cpu_seconds,
    }


def commands(data: str, strategy: str, params: dict[str, Any]) -> dict[str, float]:
    """Wall seconds of the whole `trader replay` and `backtest run` processes on the same bars."""
    args = ["--strategy", strategy, "--data", data, "--json"]
    for name, value in params.items():
        args += ["--param", f"{name}={value}"]
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        env = os.environ | {"TRADEOPS_DATA_DIR": folder}
        for label, command in (("trader replay", ["trader", "replay"]), ("backtest run", ["backtest", "run"])):
            argv = [sys.executable, "-m", "tradeops.cli", *command, *args]
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=env, timeout=3600)  # noqa: S603 - fixed argv
            seconds[f"tradeops {label}"] = time.perf_counter() - started
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/trader_bench.json"))
    parser.add_argument("--data", default="sample:GOOG")
    parser.add_argument("--strategy", default="sma_cross")
    parser.add_argument("--param", action="append", default=[], help="name=value (default fast=10 slow=30)")
    parser.add_argument("--commands", action="store_true", help="also time the whole commands")
    args = parser.parse_args(argv)
    params = dict(item.split("=", 1) for item in args.param) or (
        {"fast": 10, "slow": 30} if args.strategy == "sma_cross" else {}
    )
    result = measure(args.data, args.strategy, params)
    replay, backtest = result["seconds"].values()
    print(result["case"])
    print(f"  trader replay  {replay:10.2f} s   {result['replay_bars_per_second']:8,.0f} bars/s", end="")
    print(f"  ({result['replay_cpu_bars_per_second']:,.0f} bars per CPU second)")
    print(f"  backtest       {backtest * 1000:10.2f} ms  the replay takes {replay / backtest:,.0f}x the backtest")
    if args.commands:
        result["commands"] = commands(args.data, args.strategy, params)
        replay, backtest = result["commands"].values()
        print(
            f"  whole commands: trader replay {replay:.2f} s, backtest run {backtest:.2f} s ({replay / backtest:.1f}x)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
