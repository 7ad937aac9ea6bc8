"""Benchmark finding a dataset's latest version: the `latest.json` pointer against the old scan of every manifest.

    python -m pipelines.bench.latest_version [--versions 1,100,1000] [--out reports/latest_version_bench.json]

The dataset grows as an hourly sync grows it: each version is written through `DatasetStore.write`
and holds one more hourly bar than the one before (720 versions are what 30 days keep). At each
count the bench counts the object-store requests (GET, LIST, HEAD) of three lookups and times them
(median of `--repeats`): the pointer (`DatasetStore.latest`: the version and its sha256, what pinning
needs), the latest manifest (`DatasetStore.manifest`: the pointer, then the manifest it names) and
the scan every lookup was before the pointer (LIST the versions, GET every manifest, take the newest).
The store is a local folder; on S3 each counted request is one HTTP round trip. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tradeops.scratch import Leftover
from tradeops.store.objects import ObjectStore

DATASET = "bench-hourly"


class CountingObjects:
    """An object store that counts the requests it passes to the store it wraps (reads by kind, and writes)."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.requests: Counter[str] = Counter()

    @property
    def reads(self) -> int:
        return self.requests["get"] + self.requests["list"] + self.requests["head"]

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.requests["put"] += 1
        self.inner.put(key, data, content_type)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        self.requests["put"] += 1
        return self.inner.put_stream(key, chunks)

    def get(self, key: str) -> bytes:
        self.requests["get"] += 1
        return self.inner.get(key)

    def get_stream(self, key: str) -> Iterator[bytes]:
        self.requests["get"] += 1
        return self.inner.get_stream(key)

    def size(self, key: str) -> int:
        self.requests["head"] += 1
        return self.inner.size(key)

    def delete(self, key: str) -> None:
        self.requests["delete"] += 1
        self.inner.delete(key)

    def keys(self, prefix: str = "") -> list[str]:
        self.requests["list"] += 1
        return self.inner.keys(prefix)

    def reclaim(self, prefix: str = "", *, dry_run: bool = False) -> list[Leftover]:
        self.requests["list"] += 1
        return self.inner.reclaim(prefix, dry_run=dry_run)

    def ping(self) -> None:
        self.inner.ping()


def hourly_bars(count: int) -> Any:
    """`count` hourly bars of one symbol (a seeded random walk): version i of the dataset holds the first i + 1."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, count)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=count, freq="1h"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": rng.uniform(1, 100, count).round(4),
        }
    )


def grow(store: Any, bars: Any, start: int, stop: int) -> None:
    """Write versions `start` .. `stop - 1` (version i holds bars 0..i), as an hourly sync would."""
    for index in range(start, stop):
        store.write(DATASET, {"BTC/USDT": bars.iloc[: index + 1]}, timeframe="1h", source="bench")


def lookup(counting: CountingObjects, call: Callable[[], Any], repeats: int) -> dict[str, Any]:
    """Requests of one call and the median seconds of `repeats` calls."""
    before = counting.reads
    call()
    reads = counting.reads - before
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {"reads": reads, "seconds": statistics.median(seconds)}


def measure(counts: list[int], repeats: int = 5) -> dict[str, Any]:
    from tradeops.data.datasets import DatasetRef, DatasetStore
    from tradeops.store.objects import FolderObjectStore

    bars = hourly_bars(max(counts))
    cases = []
    with tempfile.TemporaryDirectory() as folder:
        counting = CountingObjects(FolderObjectStore(Path(folder)))
        store = DatasetStore(counting)
        written = 0
        for count in sorted(counts):
            grow(store, bars, written, count)
            written = count
            newest = store.versions(DATASET)[-1].version
            found = {
                "pointer": lookup(counting, lambda: store.latest(DATASET), repeats),
                "latest manifest": lookup(counting, lambda: store.manifest(DatasetRef(DATASET)), repeats),
                "scan": lookup(counting, lambda: store.versions(DATASET)[-1], repeats),
            }
            agrees = store.latest(DATASET).version == newest  # the pointer names what the scan finds newest
            cases.append({"versions": count, "latest": newest, "pointer_agrees_with_scan": agrees, **found})
    return {"dataset": DATASET, "repeats": repeats, "store": "local folder", "cases": cases}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", default="1,100,1000", help="comma-separated version counts")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("reports/latest_version_bench.json"))
    args = parser.parse_args(argv)
    result = measure([int(n) for n in args.versions.split(",")], args.repeats)
    for case in result["cases"]:
        shown = ", ".join(
            f"{name} {case[name]['reads']} read(s) {case[name]['seconds'] * 1000:.2f} ms"
            for name in ("pointer", "latest manifest", "scan")
        )
        print(f"{case['versions']:,} version(s): {shown}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
