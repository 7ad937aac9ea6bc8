"""Feeds: where the trader's bars come from. Each yields the bars known so far, one new bar at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from tradeops.data.bars import Bars
from tradeops.data.load import load_bars


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
