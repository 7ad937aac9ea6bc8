"""Benchmark start-up and the loops' glue (issue 14), side by side in one run; print ratios and write JSON.

    python -m pipelines.bench.startup [--out reports/startup_bench.json] [--bars 20000] [--big 1000000]

Cases: (a) `tradeops --help` and `tradeops backup list` whole processes against `python -c "import typer"`;
(b) `tradeops gate` on GOOG with every check, fresh process, against backtrader's and backtesting.py's
whole processes running one backtest; (c) the 174-point sweep on `--bars` hourly synthetic bars, whole
process, against backtesting.py's `optimize` of the same grid; (d) ns per bar-point of the kernel alone
(on the inputs `run_grid` gives it), of `run_grid` and of plain numba loops (`pipelines.bench.plain_loops`:
a moving-average cross with no order logic; its docstring says what each leaves out); (e) a `--big`-bar
single backtest split into load, signals, kernel, trades and JSON; (f) `run_grid`'s ns per bar-point as the
bars grow (`--linear`), to see whether its cost stays linear. Times are wall
clock medians; nothing here asserts a time. Other work on the machine slows every figure alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

FAST, SLOW = list(range(5, 51, 5)), list(range(20, 201, 10))
GATE = "gate --strategy sma_cross --param fast=10 --param slow=30 --data sample:GOOG --out {out}/v.json"
PEER = (
    "import warnings; warnings.simplefilter('ignore'); from backtesting.test import GOOG; "
    "from pipelines.bench.peers import"
)


REPEAT = {"times": 3}  # fresh processes timed per figure (--repeat)


def whole_process(argv: list[str], cwd: str | None = None, repeat: int | None = None) -> float:
    """Median wall time of a fresh process (one untimed run first, so caches are warm for every side)."""
    samples = []
    for _ in range((REPEAT["times"] if repeat is None else repeat) + 1):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=cwd, timeout=1800)  # noqa: S603 - fixed argv
        samples.append(time.perf_counter() - started)
    return statistics.median(samples[1:] or samples)


def tradeops(args: str) -> list[str]:
    return [sys.executable, "-m", "tradeops.cli", *args.split()]


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def case_start(folder: str) -> dict[str, Any]:
    return {
        "case": "a: whole process, start-up",
        "seconds": {
            "tradeops --help": whole_process(tradeops("--help"), cwd=folder),
            "tradeops backup list": whole_process(tradeops("backup list"), cwd=folder),
            'python -c "import typer"': whole_process(python("import typer")),
        },
    }


def case_gate(folder: str) -> dict[str, Any]:
    seconds = {
        "tradeops gate (every check)": whole_process(tradeops(GATE.format(out=folder)), cwd=folder),
        "backtesting.py (one backtest)": whole_process(
            python(f"{PEER} backtesting_run; backtesting_run(GOOG, 10, 30)")
        ),
    }
    if importlib.util.find_spec("backtrader") is not None:  # a peer of `make bench` (the bench extra) only
        seconds["backtrader (one backtest)"] = whole_process(
            python(f"{PEER} backtrader_run; backtrader_run(GOOG, 10, 30)")
        )
    return {"case": "b: whole process, gate cold start vs peers' one backtest on GOOG", "seconds": seconds}


def case_sweep(folder: str, bars: int, small: bool = False) -> dict[str, Any]:
    """The 174-point grid (`small`: its first 3 x 3 points, for the suite's smoke)."""
    data = f"sample:synthetic?symbols=1&bars={bars}"
    fast, slow = (FAST[:3], SLOW[:3]) if small else (FAST, SLOW)
    grid = f"-g fast={fast[0]}:{fast[-1]}:5 -g slow={slow[0]}:{slow[-1]}:10"
    sweep = f"backtest sweep -s sma_cross -d {data} {grid} --json"
    peer = (
        "import warnings; warnings.simplefilter('ignore'); from tradeops.data import load_bars; "
        "from pipelines.bench.peers import backtesting_frame, backtesting_optimize; "
        f"backtesting_optimize(backtesting_frame(load_bars('{data}')), {fast}, {slow})"
    )
    seconds = {
        "tradeops backtest sweep": whole_process(tradeops(sweep), cwd=folder, repeat=min(1, REPEAT["times"])),
        "backtesting.py optimize": whole_process(python(peer), repeat=min(1, REPEAT["times"])),
    }
    points = len(fast) * len(slow)
    return {"case": f"c: whole process, {points}-point sweep on {bars:,} hourly bars", "seconds": seconds}


def case_per_bar_point(symbols: int, bars_per_symbol: int, repeat: int = 5) -> dict[str, Any]:
    """ns per bar-point of `run_grid`, of the kernel alone on the inputs `run_grid` gives it (one chunk's points
    crossing their moving averages in place; averages computed beforehand), and of the plain loops
    (`pipelines.bench.plain_loops`); each the median of `repeat` calls after a warm-up call."""
    from pipelines.bench import plain_loops
    from pipelines.bench.engine import timed
    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings, run_grid
    from tradeops.engine.backtest import _simulate, chunk_points
    from tradeops.strategies.base import expand_grid, table_from_points
    from tradeops.strategies.sma_cross import SmaCross

    bars = load_bars(f"sample:synthetic?symbols={symbols}&bars={bars_per_symbol}")
    strategy = SmaCross()
    points, _ = expand_grid(strategy, {}, {"fast": FAST, "slow": SLOW})
    settings = ExecutionSettings()
    run_grid(strategy, points[:2], bars.head(300), settings)  # load the cached kernel
    chunk = {k: v[: chunk_points(bars)] for k, v in table_from_points(points).items()}
    crossover = strategy.crossover(bars, chunk)
    signals = crossover.signals()  # what strategy.signals gives: the arrays other strategies hand the kernel
    up, down = (np.ascontiguousarray(a.transpose(2, 1, 0)) for a in (signals.entries, signals.exits))
    close_by_symbol = np.ascontiguousarray(bars.close.T)
    loop, contiguous, marked = (
        plain_loops.cross_loop(),
        plain_loops.contiguous_cross_loop(),
        plain_loops.marked_cross_loop(),
    )
    seconds = {
        "kernel": timed(lambda: _simulate(crossover, bars, settings, record=False), repeat),
        "run_grid": timed(lambda: run_grid(strategy, points, bars, settings), repeat),
        "plain numba loop": timed(lambda: loop(bars.close, signals.entries, signals.exits), repeat),
        "kernel, signal arrays": timed(lambda: _simulate(signals, bars, settings, record=False), repeat),
        "plain numba loop, contiguous signals": timed(lambda: contiguous(close_by_symbol, up, down), repeat),
        "plain numba loop, crossing the averages, equity marked": timed(
            lambda: marked(bars.close, crossover.series, crossover.fast_of, crossover.slow_of), repeat
        ),
    }
    cells = bars.n_bars * symbols
    per = {
        name: value / (cells * (len(points) if name == "run_grid" else len(crossover.fast_of)))
        for name, value in seconds.items()
    }
    return {
        "case": f"d: ns per bar-point, {len(points)} points x {symbols} symbols x {bars_per_symbol:,} bars",
        "ns_per_bar_point": {name: value * 1e9 for name, value in per.items()},
    }


def case_big_single(n_bars: int) -> dict[str, Any]:
    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings, run_backtest
    from tradeops.engine.backtest import _simulate
    from tradeops.engine.result import result_json, result_to_dict
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import table_from_points

    strategy = get_strategy("sma_cross")
    point = strategy.Params.model_validate({"fast": 5, "slow": 20})
    settings = ExecutionSettings(direction="long_short")
    split: dict[str, float] = {}
    started = time.perf_counter()
    bars = load_bars(f"sample:synthetic?symbols=1&bars={n_bars}&seed=5")  # seed 42's walk leaves 1e12 by 1M bars
    split["load"] = time.perf_counter() - started
    started = time.perf_counter()
    signals = strategy.signals(bars, table_from_points([point]))
    split["signals"] = time.perf_counter() - started
    started = time.perf_counter()
    _simulate(signals, bars, settings, record=True)
    split["kernel"] = time.perf_counter() - started
    started = time.perf_counter()
    result = run_backtest(strategy, point, bars, settings)
    split["trades (run_backtest minus signals and kernel)"] = (
        time.perf_counter() - started - split["signals"] - split["kernel"]
    )
    started = time.perf_counter()
    payload = result_to_dict(result)
    as_dict = time.perf_counter() - started
    started = time.perf_counter()
    result_json(payload)
    split["json"] = as_dict + time.perf_counter() - started  # what `backtest run --json` serialises
    started = time.perf_counter()
    json.dumps(payload, indent=2)
    split["json, with json.dumps as before issue 29"] = as_dict + time.perf_counter() - started
    return {"case": f"e: one backtest on {n_bars:,} bars ({len(result.trades):,} trades), split", "seconds": split}


def case_linearity(sizes: list[int]) -> dict[str, Any]:
    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings, run_grid
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import expand_grid

    strategy = get_strategy("sma_cross")
    points, _ = expand_grid(strategy, {}, {"fast": FAST[:4], "slow": SLOW[:5]})
    settings = ExecutionSettings()
    per: dict[str, float] = {}
    for n_bars in sizes:
        bars = load_bars(f"sample:synthetic?symbols=1&bars={n_bars}")
        run_grid(strategy, points[:1], bars.head(300), settings)  # the cached kernel is loaded
        started = time.perf_counter()
        run_grid(strategy, points, bars, settings)
        per[f"run_grid, {n_bars:,} bars"] = (time.perf_counter() - started) / (n_bars * len(points)) * 1e9
    return {"case": f"f: ns per bar-point as the bars grow, {len(points)} points x 1 symbol", "ns_per_bar_point": per}


def summarise(results: list[dict[str, Any]]) -> str:
    lines = []
    for result in results:
        lines.append(result["case"])
        values = result.get("seconds") or result["ns_per_bar_point"]
        unit = "s" if "seconds" in result else "ns"
        first = next(iter(values.values()))
        for name, value in values.items():
            ratio = f"  {value / first:,.2f}x the first" if value is not first else ""
            lines.append(f"  {name:48s} {value:12,.3f} {unit}{ratio}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/startup_bench.json"))
    parser.add_argument("--bars", type=int, default=20_000, help="hourly bars of the sweep (c)")
    parser.add_argument("--small-grid", action="store_true", help="sweep (c) on 3 x 3 points, not 174")
    parser.add_argument("--grid-symbols", type=int, default=50)
    parser.add_argument("--grid-bars", type=int, default=2_520)
    parser.add_argument("--repeat", type=int, default=3, help="timed fresh processes per figure")
    parser.add_argument("--big", type=int, default=1_000_000, help="bars of the single backtest (e)")
    parser.add_argument(
        "--linear", default="10000,100000,1000000", help="comma-separated bar counts of the linearity case (f)"
    )
    args = parser.parse_args(argv)
    os.environ["TQDM_DISABLE"] = "1"  # the peers' progress bars
    REPEAT["times"] = args.repeat
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TRADEOPS_DATA_DIR"] = folder
        results = [
            case_start(folder),
            case_gate(folder),
            case_sweep(folder, args.bars, args.small_grid),
            case_per_bar_point(args.grid_symbols, args.grid_bars),
            case_big_single(args.big),
            case_linearity([int(n) for n in args.linear.split(",")]),
        ]
    print(summarise(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
