"""Many-symbol datasets (issue 29): load, import and a backtest, each against its peer in the same run.

    python -m pipelines.bench.datasets [--symbols 400] [--bars 2520] [--repeats 3] [--out reports/datasets_bench.json]

The bars are `sample:synthetic` (business days, so every weekend is a gap), written once as a long CSV
(ISO dates) and once as one Parquet file. Three ratios, each against its peer timed in this run:

- load: `load_bars("dataset:NAME@VERSION")` (every part read, its sha256 checked, validated, stacked)
  against one `pd.read_parquet` of the same bars (target: within 2x);
- import: `import_file` of the CSV into an empty store against `pd.read_csv` + `DataFrame.to_parquet`
  of the same file (target: within 2x), wall clock and CPU (all threads of this process);
- backtest: a whole `tradeops backtest run` process on the dataset against the same command on the
  one Parquet file.

Load `load_bars` of the Parquet file is shown too (the loader's own validation cost), and the bytes
`data import` prints. Times are medians of `--repeats`, after one untimed run; other work on the
machine slows every figure alike. Nothing here asserts a time.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATASET = "bench-many"
STRATEGY = ["--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30"]


def timed(action: Callable[[int], Any], repeats: int) -> dict[str, float]:
    """Median wall and CPU seconds of `action(i)` over `repeats` runs, after one untimed run (i = 0)."""
    action(0)
    wall, cpu = [], []
    for i in range(1, repeats + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        action(i)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {"seconds": statistics.median(wall), "cpu_seconds": statistics.median(cpu)}


def write_inputs(folder: Path, symbols: int, bars: int) -> tuple[Path, Path]:
    """The same bars as a long CSV and as one Parquet file."""
    from tradeops.data.samples import synthetic

    frame = synthetic(symbols=symbols, bars=bars, seed=29)
    csv, single = folder / "bars.csv", folder / "bars.parquet"
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    frame.to_parquet(single, index=False)
    return csv, single


def whole_process(argv: list[str], env: dict[str, str], repeats: int) -> dict[str, float]:
    def run(_: int) -> None:
        subprocess.run(argv, check=True, capture_output=True, env=env, timeout=1800)  # noqa: S603 - our own CLI

    return {"seconds": timed(run, repeats)["seconds"]}


def measure(symbols: int, bars: int, repeats: int) -> dict[str, Any]:
    import pandas as pd

    from tradeops.data import load_bars
    from tradeops.data.datasets import DatasetStore
    from tradeops.data.imports import import_file
    from tradeops.store.objects import FolderObjectStore

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        csv, single = write_inputs(folder, symbols, bars)

        def import_once(i: int) -> None:
            import_file(DatasetStore(FolderObjectStore(folder / f"import-{i}")), csv, dataset=DATASET)

        def peer_import(i: int) -> None:
            pd.read_csv(csv).to_parquet(folder / f"peer-{i}.parquet", index=False)

        figures: dict[str, Any] = {
            "import": timed(import_once, repeats),
            "read_csv_to_parquet": timed(peer_import, repeats),
        }
        objects = FolderObjectStore(folder / "objects")
        manifest = import_file(DatasetStore(objects), csv, dataset=DATASET).manifest
        reference = manifest.ref
        same = load_bars(reference, objects=objects).fingerprint() == load_bars(str(single)).fingerprint()
        figures["load"] = timed(lambda _: load_bars(reference, objects=objects), repeats)
        figures["read_parquet"] = timed(lambda _: pd.read_parquet(single), repeats)
        figures["load_parquet_file"] = timed(lambda _: load_bars(str(single)), repeats)
        env = os.environ | {"TRADEOPS_DATA_DIR": str(folder / "home"), "TRADEOPS_OBJECT_STORE": objects.url}
        command = [sys.executable, "-m", "tradeops.cli", "backtest", "run", *STRATEGY, "--json", "--no-store", "--data"]
        figures["backtest_dataset"] = whole_process([*command, reference], env, repeats)
        figures["backtest_parquet_file"] = whole_process([*command, str(single)], env, repeats)
        shown = subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "tradeops.cli", "data", "import", str(csv), "--dataset", "printed"],
            check=True,
            capture_output=True,
            env=env,
            timeout=1800,
        )
    return {
        "symbols": symbols,
        "bars": bars,
        "rows": symbols * bars,
        "repeats": repeats,
        "parts": len(manifest.parts),
        "dataset_equals_parquet_file": same,
        "import_stdout_bytes": len(shown.stdout),
        "seconds": figures,
        "ratios": {
            "load_vs_read_parquet": figures["load"]["seconds"] / figures["read_parquet"]["seconds"],
            "import_vs_read_csv_to_parquet": figures["import"]["seconds"] / figures["read_csv_to_parquet"]["seconds"],
            "import_cpu_vs_read_csv_to_parquet": figures["import"]["cpu_seconds"]
            / figures["read_csv_to_parquet"]["cpu_seconds"],
            "backtest_dataset_vs_parquet_file": figures["backtest_dataset"]["seconds"]
            / figures["backtest_parquet_file"]["seconds"],
        },
        "load_average": os.getloadavg()[0],
    }


def report(result: dict[str, Any]) -> str:
    seconds, ratios = result["seconds"], result["ratios"]
    return "\n".join(
        [
            f"{result['symbols']} symbols x {result['bars']:,} bars = {result['rows']:,} rows in {result['parts']} "
            f"part(s); dataset equals the Parquet file: {result['dataset_equals_parquet_file']}",
            f"load      {seconds['load']['seconds']:.3f} s vs pd.read_parquet "
            f"{seconds['read_parquet']['seconds']:.3f} s: {ratios['load_vs_read_parquet']:.2f}x (target <= 2x); "
            f"load_bars(file.parquet) "
            f"{seconds['load_parquet_file']['seconds']:.3f} s",
            f"import    {seconds['import']['seconds']:.3f} s vs read_csv + to_parquet "
            f"{seconds['read_csv_to_parquet']['seconds']:.3f} s: {ratios['import_vs_read_csv_to_parquet']:.2f}x wall, "
            f"{ratios['import_cpu_vs_read_csv_to_parquet']:.2f}x CPU (target <= 2x); "
            f"`data import` printed {result['import_stdout_bytes']:,} bytes",
            f"backtest  {seconds['backtest_dataset']['seconds']:.3f} s on the dataset vs "
            f"{seconds['backtest_parquet_file']['seconds']:.3f} s on the Parquet file: "
            f"{ratios['backtest_dataset_vs_parquet_file']:.2f}x",
            f"(load average {result['load_average']:.2f})",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=400)
    parser.add_argument("--bars", type=int, default=2520)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("reports/datasets_bench.json"))
    args = parser.parse_args(argv)
    result = measure(args.symbols, args.bars, args.repeats)
    print(report(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
