"""Sharded sweeps: the 50-symbol grid with --workers 1 and 2, and the overhead a shard pays to start.

    python -m pipelines.bench.sweeps [--symbols 50] [--bars 2520] [--out reports/sweep_bench.json]

`workers_1`/`workers_2` are the wall times of the whole `tradeops backtest sweep --workers 1|2`
command (start, imports, data load, compute, table written); `--workers 2` runs two shards in two
fresh processes and merges their parts (the path the cluster's pods take); `compute_in_process` is
the grid alone, data loaded and engine warm. The load average is recorded: on a shared machine it
says how many cores the workers really had. Then each
of `--shards` shards runs alone in a fresh interpreter, as a pod would, timing its phases: interpreter
start to our code, imports, data load, the compute itself. Start + imports + load is the per-pod
overhead of the cluster cost model (an image pull and pod scheduling come on top there).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GRID = {"fast": list(range(5, 45, 5)), "slow": list(range(50, 225, 25))}


def _spec(symbols: int, bars: int) -> Any:
    from tradeops.sweeps.spec import SweepSpec

    return SweepSpec(strategy="sma_cross", data=f"sample:synthetic?symbols={symbols}&bars={bars}&seed=1", grid=GRID)


def _timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def child(spec_json: str, shard: int, shards: int, launched: float) -> dict[str, float]:
    """Inside a fresh interpreter: time imports, data load and compute of one shard."""
    entered = time.time()
    started = time.perf_counter()
    for module in ("tradeops.data", "tradeops.engine", "tradeops.strategies"):  # what a shard needs, before loading
        importlib.import_module(module)
    from tradeops.sweeps.parts import part_to_bytes, prepare, run_part
    from tradeops.sweeps.spec import SweepSpec

    imported = time.perf_counter()
    spec = SweepSpec.model_validate_json(spec_json)
    ready = prepare(spec)
    loaded = time.perf_counter()
    part = run_part(spec, shard, shards, ready)
    part_to_bytes(part)
    done = time.perf_counter()
    return {
        "start_seconds": round(entered - launched, 4),
        "import_seconds": round(imported - started, 4),
        "load_seconds": round(loaded - imported, 4),
        "compute_seconds": round(done - loaded, 4),
        "rows": len(part.table),
    }


def _shard_in_fresh_process(spec_json: str, shard: int, shards: int) -> dict[str, float]:
    command = [sys.executable, "-m", "pipelines.bench.sweeps", "--child", spec_json, str(shard), str(shards)]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, str(time.time())], capture_output=True, text=True, timeout=1800, env=os.environ.copy(), check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _command_seconds(spec: Any, workers: int) -> float:
    """Wall time of the whole `tradeops backtest sweep ... --workers N` command, start to table written."""
    grid = [f"--grid={name}={','.join(map(str, values))}" for name, values in spec.grid.items()]
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "tradeops.cli", "backtest", "sweep", "-s", spec.strategy, "-d", spec.data]
        command += [*grid, "--workers", str(workers), "--out", str(Path(folder) / "table.csv"), "--json"]
        seconds, _ = _timed(
            lambda: subprocess.run(command, capture_output=True, timeout=1800, check=True)  # noqa: S603 - ours
        )
    return seconds


def run(symbols: int, bars: int, shards: int) -> dict[str, Any]:
    import pandas as pd

    from tradeops.engine import run_grid
    from tradeops.sweeps.local import run_sharded
    from tradeops.sweeps.parts import prepare

    spec = _spec(symbols, bars)
    ready = prepare(spec)
    run_grid(ready.strategy, ready.points[:1], ready.bars, ready.settings)  # compiled and cached before timing
    compute, whole = _timed(lambda: run_grid(ready.strategy, ready.points, ready.bars, ready.settings))
    _, merged = _timed(lambda: run_sharded(spec, 2))
    pd.testing.assert_frame_equal(merged.table, whole, check_exact=True)
    one, two = (_command_seconds(spec, workers) for workers in (1, 2))
    per_shard = [_shard_in_fresh_process(spec.model_dump_json(), i, shards) for i in range(shards)]
    overhead = [s["start_seconds"] + s["import_seconds"] + s["load_seconds"] for s in per_shard]
    return {
        "symbols": symbols,
        "bars": bars,
        "points": len(ready.points),
        "bar_points": len(ready.points) * bars * symbols,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "seconds": {"workers_1": round(one, 3), "workers_2": round(two, 3), "compute_in_process": round(compute, 3)},
        "speedup_workers_2": round(one / two, 3),
        "merged_equals_unsharded": True,
        "shards": per_shard,
        "overhead_per_shard_seconds": {
            "mean": round(sum(overhead) / len(overhead), 3),
            "max": round(max(overhead), 3),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--bars", type=int, default=2520)
    parser.add_argument("--shards", type=int, default=4, help="shards timed one by one in fresh processes")
    parser.add_argument("--out", type=Path, default=Path("reports/sweep_bench.json"))
    parser.add_argument("--child", nargs=4, metavar=("SPEC", "SHARD", "SHARDS", "LAUNCHED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec_json, shard, shards, launched = args.child
        print(json.dumps(child(spec_json, int(shard), int(shards), float(launched))))
        return 0
    result = run(args.symbols, args.bars, args.shards)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
