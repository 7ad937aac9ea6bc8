"""Benchmark market data: load of N minute bars from CSV vs a Parquet dataset, import, and fetch throughput.

    python -m pipelines.bench.market_data [--bars 1000000] [--fetch-bars 20000] [--out reports/market_data_bench.json]

Each load or import runs in a fresh Python process, so its peak memory (ru_maxrss) is its own. The
fetch runs `data fetch`'s code through ccxt against the local fake of Binance's public REST API
(tests/fakes/exchange.py) on loopback: it measures our paging, parsing, validation and storage with
ccxt's rate limiter switched off, never a real venue's latency. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHILD = """
import json, resource, sys, time
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.imports import import_file
from tradeops.store.objects import FolderObjectStore
from pathlib import Path
started = time.perf_counter()  # the work, not the imports
kind, path, objects = sys.argv[1], sys.argv[2], FolderObjectStore(Path(sys.argv[3]))
if kind == "import":
    bars = import_file(DatasetStore(objects), Path(path), dataset="bench-1m", symbol="BENCH").manifest.bars
else:
    bars = load_bars(path, objects=objects).n_bars
print(json.dumps({"seconds": time.perf_counter() - started, "bars": bars,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_csvs(folder: Path, bars: int) -> tuple[Path, Path]:
    """Write the same minute bars twice: ISO times (what `load_bars` reads) and epoch ms (what `data import` reads)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0005, bars)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    stamps = pd.date_range("2022-01-01", periods=bars, freq="1min")
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.0002,
            "low": np.minimum(open_, close) * 0.9998,
            "close": close,
            "volume": rng.uniform(1, 100, bars).round(4),
        }
    )
    iso, epoch = folder / "bench.csv", folder / "bench-ms.csv"
    frame.assign(timestamp=stamps.strftime("%Y-%m-%dT%H:%M:%S"))[["timestamp", *frame.columns]].to_csv(iso, index=False)
    frame.assign(timestamp=stamps.as_unit("ms").asi8)[["timestamp", *frame.columns]].to_csv(epoch, index=False)
    return iso, epoch


def _child(kind: str, path: str, objects: Path) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CHILD, kind, path, str(objects)],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure_fetch(bars: int) -> dict[str, Any]:
    import pandas as pd
    from tests.fakes.exchange import MINUTE_MS, FakeBinance, walk  # the local fake venue (no real exchange here)

    from tradeops.data.datasets import DatasetStore
    from tradeops.data.fetch import FetchPolicy, fetch_dataset, open_exchange
    from tradeops.store.objects import FolderObjectStore

    start = 1_700_000_040_000
    fake = FakeBinance()
    try:
        fake.add_market("BTC", "USDT", walk(start, bars + 1))
        fake.now_ms = start + bars * MINUTE_MS
        exchange = open_exchange("binance", base_url=fake.url, rate_limited=False)  # our side, not the politeness delay
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            report = fetch_dataset(
                DatasetStore(FolderObjectStore(Path(folder))),
                exchange,
                dataset="bench-fetch",
                symbols=["BTC/USDT"],
                timeframe="1m",
                since=pd.Timestamp(start, unit="ms").to_pydatetime(),
                policy=FetchPolicy(attempts=2),
            )
            seconds = time.perf_counter() - started
    finally:
        fake.stop()
    (symbol,) = report.symbols
    return {
        "bars": symbol.new_bars,
        "pages": symbol.pages,
        "seconds": seconds,
        "bars_per_second": symbol.new_bars / seconds,
        "pages_per_second": symbol.pages / seconds,
        "venue": "local fake of Binance's public REST API (ccxt binance, rate limiter off)",
    }


def measure(bars: int, fetch_bars: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        iso, epoch = write_csvs(root, bars)
        objects = root / "objects"
        results = {
            "load CSV (ISO times)": _child("load", str(iso), objects),
            "import CSV (epoch ms) into a dataset": _child("import", str(epoch), objects),
            "load Parquet dataset": _child("load", "dataset:bench-1m", objects),
        }
        sizes = {
            "csv_mb": iso.stat().st_size / 2**20,
            "dataset_mb": sum(p.stat().st_size for p in objects.rglob("*.parquet")) / 2**20,
        }
    return {"bars": bars, "sizes": sizes, "cases": results, "fetch": measure_fetch(fetch_bars)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--fetch-bars", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("reports/market_data_bench.json"))
    args = parser.parse_args(argv)
    result = measure(args.bars, args.fetch_bars)
    for name, case in result["cases"].items():
        print(f"{name}: {case['bars']:,} bars in {case['seconds']:.2f} s, peak RSS {case['peak_rss_mb']:.0f} MB")
    fetch = result["fetch"]
    print(
        f"fetch: {fetch['bars']:,} bars in {fetch['pages']} pages, {fetch['bars_per_second']:,.0f} bars/s, "
        f"{fetch['pages_per_second']:.1f} pages/s ({fetch['venue']})"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
