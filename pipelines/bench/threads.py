"""Time one backtest and a replay compared every bar, on numba's default threads and on one; write JSON.

    python -m pipelines.bench.threads [--bars 600] [--repeats 30] [--out reports/threads_bench.json]

Each case runs in a fresh process (numba reads NUMBA_NUM_THREADS once, at import): "default threads"
leaves NUMBA_NUM_THREADS and OMP_NUM_THREADS unset (numba then uses every core), "one thread" sets
both to 1. Two figures per case: the median of `--repeats` single backtests of sma_cross on the first
`--bars` GOOG bars (after a warm-up call), and the wall time of a paper replay of those bars compared
with a backtest every bar (tradeops.trader.divergence). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pipelines.bench import write_result

PARAMS = {"fast": 10, "slow": 30}
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")


def measure_here(n_bars: int, repeats: int) -> dict[str, float]:
    """Both figures in this process, on whatever threads it was started with."""
    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings, run_backtest
    from tradeops.store.database import open_engine
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params
    from tradeops.trader.feed import ReplayFeed
    from tradeops.trader.loop import SessionConfig, Trader
    from tradeops.trader.risk import RiskLimits

    bars = load_bars("sample:GOOG").head(n_bars)
    strategy = get_strategy("sma_cross")
    point, execution = validate_params(strategy, PARAMS), ExecutionSettings()
    times = []
    for _ in range(repeats + 1):  # the first call loads the compiled engine
        started = time.perf_counter()
        run_backtest(strategy, point, bars, execution)
        times.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'ledger.db'}")
        session = SessionConfig(
            "threads", strategy, point, "sample:GOOG", execution, RiskLimits(divergence_every_bars=1)
        )
        started = time.perf_counter()
        Trader(engine, session).run(ReplayFeed(bars))
        replay = time.perf_counter() - started
        engine.dispose()
    return {"backtest_median_ms": statistics.median(times[1:]) * 1000, "replay_compared_every_bar_s": replay}


def measure(n_bars: int, repeats: int) -> dict[str, Any]:
    """Both figures on default threads and on one, each case in a fresh process."""
    cases: dict[str, Any] = {}
    for name, threads in (("default threads", None), ("one thread", "1")):
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        env |= dict.fromkeys(THREAD_VARIABLES, threads) if threads else {}
        command = [sys.executable, "-m", "pipelines.bench.threads", "--here", "--bars", str(n_bars)]
        done = subprocess.run(  # noqa: S603 - our own module, by the running interpreter
            [*command, "--repeats", str(repeats)], env=env, capture_output=True, text=True, check=True
        )
        cases[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"case": f"sma_cross {PARAMS} on the first {n_bars} GOOG bars", "cores": os.cpu_count(), "cases": cases}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/threads_bench.json"))
    parser.add_argument("--bars", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--here", action="store_true", help=argparse.SUPPRESS)  # one case, in this process
    args = parser.parse_args(argv)
    if args.here:
        print(json.dumps(measure_here(args.bars, args.repeats)))
        return
    result = measure(args.bars, args.repeats)
    print(f"{result['case']} ({result['cores']} cores)")
    for name, figures in result["cases"].items():
        print(
            f"  {name:>15}: one backtest {figures['backtest_median_ms']:7.2f} ms (median), "
            f"replay compared every bar {figures['replay_compared_every_bar_s']:7.2f} s"
        )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
