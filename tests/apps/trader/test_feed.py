"""Feeds: replay at a speed, and polling a live file that another process appends to."""

from __future__ import annotations

import threading
import time

import pytest

from tradeops.data import load_bars
from tradeops.errors import DataError
from tradeops.trader.feed import FileBarSource, PollingFeed, ReplayFeed

HEADER = "timestamp,open,high,low,close,volume\n"


def row(day: int, price: float) -> str:
    return f"2024-01-{day:02d},{price},{price + 1},{price - 1},{price},100\n"


@pytest.mark.req("DC-12")
def test_dc_12_replay_yields_one_more_bar_each_time_at_the_asked_speed():
    bars = load_bars("sample:GOOG").head(12)
    started = time.monotonic()
    sizes = [b.n_bars for b in ReplayFeed(bars, speed=100).updates(after=4)]
    assert sizes == list(range(6, 13)) and time.monotonic() - started >= 0.06
    with pytest.raises(ValueError, match="speed"):
        ReplayFeed(bars, speed=-1)


@pytest.mark.req("DC-12", "DC-7")
def test_dc_12_dc_7_polling_yields_new_bars_validated_and_stops_on_request(tmp_path):
    path = tmp_path / "live.csv"
    path.write_text(HEADER + row(1, 10) + row(2, 11))
    stop = threading.Event()
    feed = PollingFeed(FileBarSource(path), interval=0.02, stop=stop)
    updates = feed.updates(after=-1)
    assert next(updates).n_bars == 2
    with path.open("a") as stream:
        stream.write(row(3, 12))
    assert next(updates).n_bars == 3
    with path.open("a") as stream:
        stream.write("2024-01-04,13,14,12,nan,100\n")
    with pytest.raises(DataError, match="close"):
        next(updates)
    stop.set()
    assert list(PollingFeed(FileBarSource(path), interval=0.02, stop=stop).updates(after=-1)) == []
