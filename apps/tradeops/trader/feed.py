"""Feeds: where the trader's bars come from. Each yields the bars known so far, one new bar at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tradeops.data.bars import Bars
from tradeops.data.load import load_bars
from tradeops.data.timeframes import timeframe_seconds
from tradeops.errors import DataError

if TYPE_CHECKING:
    from tradeops.store.objects import ObjectStore


class Feed(Protocol):
    """Yields growing bar sets; every yield has at least one bar after `after`."""

    name: str

    def updates(self, after: int) -> Iterator[Bars]: ...


class ReplayFeed:
    """Replays stored bars at `speed` bars per second (0 = as fast as the loop goes)."""

    name = "replay"

    def __init__(self, bars: Bars, *, speed: float = 0.0, stop: threading.Event | None = None) -> None:
        if speed < 0:
            raise ValueError("replay speed must be >= 0 bars per second")
        self.bars = bars
        self.speed = speed
        self.stop = stop or threading.Event()

    def updates(self, after: int) -> Iterator[Bars]:
        for n_bars in range(after + 2, self.bars.n_bars + 1):
            if self.speed and self.stop.wait(1 / self.speed):
                return
            if self.stop.is_set():
                return
            yield self.bars.head(n_bars)


class BarSource(Protocol):
    """A live data adapter: returns every bar known now (validated), oldest first."""

    def fetch(self) -> Bars: ...


class FileBarSource:
    """A CSV or Parquet file that another process appends bars to (validated on every read)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fetch(self) -> Bars:
        return load_bars(str(self.path))


class PollingFeed:
    """Polls a `BarSource` every `interval` seconds and yields when it has new bars; stops on `stop`."""

    name = "polling"

    def __init__(self, source: BarSource, *, interval: float = 60.0, stop: threading.Event | None = None) -> None:
        self.source = source
        self.interval = interval
        self.stop = stop or threading.Event()

    def updates(self, after: int) -> Iterator[Bars]:
        seen = after + 1
        while not self.stop.is_set():
            bars = self.source.fetch()
            if bars.n_bars > seen:
                seen = bars.n_bars
                yield bars
            self.stop.wait(self.interval)


class DatasetFeed:
    """Follows the latest version of a dataset, yielding when a new version brings newly closed bars.

    Every version is loaded with the same validation as any data; the loop refuses a version whose
    already-traded bars differ (edited history) and never processes a bar twice (the ledger's last bar).
    No new bar for `stall_bars` timeframes is a stall: `check` raises (so /readyz fails) and
    `seconds_since_new_bar` feeds the metric.
    """

    name = "dataset"

    def __init__(
        self,
        reference: str,
        *,
        objects: ObjectStore | None = None,
        interval: float = 60.0,
        stall_bars: int = 3,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from tradeops.data.datasets import open_datasets, parse_ref

        self.reference = reference
        self.ref = parse_ref(reference)
        self.datasets = open_datasets(objects)
        self.interval = interval
        self.stall_bars = stall_bars
        self.stop = stop or threading.Event()
        self.clock = clock
        self.last_new_bar_at = clock()
        self.version: str | None = None
        self.timeframe_seconds: float | None = None

    def updates(self, after: int) -> Iterator[Bars]:
        seen = after + 1
        while not self.stop.is_set():
            manifest = self.datasets.manifest(self.ref)
            if manifest.version != self.version:
                bars = load_bars(manifest.ref, objects=self.datasets.objects)  # the version just read, not a newer
                self.version, self.timeframe_seconds = manifest.version, timeframe_seconds(manifest.timeframe)
                if bars.n_bars < after + 1:
                    raise DataError(
                        f"{manifest.ref} has {bars.n_bars} bars, fewer than the {after + 1} already traded: "
                        "its history was edited; start a new session for new data"
                    )
                if bars.n_bars > seen:
                    seen = bars.n_bars
                    self.last_new_bar_at = self.clock()
                    yield bars
            self.stop.wait(self.interval)

    def seconds_since_new_bar(self) -> float:
        return self.clock() - self.last_new_bar_at

    def stalled(self) -> bool:
        limit = self.stall_bars * (self.timeframe_seconds or self.interval)
        return self.seconds_since_new_bar() > limit

    def check(self) -> None:
        """Raise when no new bar came for `stall_bars` timeframes (what /readyz and /status report)."""
        if self.stalled():
            raise RuntimeError(
                f"feed {self.reference} stalled: no new bar for {self.seconds_since_new_bar():.0f} s "
                f"({self.stall_bars} timeframes; newest version {self.version})"
            )
