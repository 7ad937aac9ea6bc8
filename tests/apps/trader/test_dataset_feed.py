"""The trader following a dataset that grows version by version, as the market-data job writes it."""

from __future__ import annotations

import threading

import pytest

from tests.apps.data.test_datasets import goog_frames
from tests.apps.trader.conftest import ledger, session_config
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.imports import bars_to_frames
from tradeops.engine.result import result_to_dict
from tradeops.errors import DataError
from tradeops.store.database import open_engine
from tradeops.store.objects import FolderObjectStore
from tradeops.trader.feed import DatasetFeed, ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.result import session_result

pytestmark = pytest.mark.req("DC-15")
REF = "dataset:goog-1d"


def test_dc_15_following_a_growing_dataset_equals_a_replay_of_the_final_one(tmp_path, goog):
    objects = FolderObjectStore(tmp_path / "objects")
    store = DatasetStore(objects)
    sizes = [60, *range(61, 90), *range(100, 301, 25)]  # one bar at a time, then several per version
    store.write("goog-1d", goog_frames(goog, sizes[0]), timeframe="1d", source="t")
    pending = iter(sizes[1:])
    stop = threading.Event()
    processed: list[int] = []

    def grow(t: int) -> None:
        processed.append(t)
        if t == store.versions("goog-1d")[-1].bars - 1:  # the newest version is traded: the job writes the next
            size = next(pending, None)
            if size is None:
                stop.set()
            else:
                store.write("goog-1d", goog_frames(goog, size), timeframe="1d", source="t")

    config = session_config("follow", "sma_cross", {"fast": 10, "slow": 30}, REF, commission=0.002)
    followed = open_engine(f"sqlite:///{tmp_path / 'followed.db'}")
    feed = DatasetFeed(REF, objects=objects, interval=0, stop=stop)
    Trader(followed, config).run(feed, on_bar=grow)
    final = load_bars(REF, objects=objects)
    assert final.n_bars == 300 and processed == list(range(300))  # every bar once, none twice
    replayed = open_engine(f"sqlite:///{tmp_path / 'replayed.db'}")
    Trader(replayed, config).run(ReplayFeed(final))
    assert result_to_dict(session_result(followed, config, final)) == result_to_dict(
        session_result(replayed, config, final)
    )
    assert ledger(followed, "follow") == ledger(replayed, "follow")
    followed.dispose()
    replayed.dispose()


def test_dc_15_a_version_that_edits_traded_history_is_refused(tmp_path, goog):
    objects = FolderObjectStore(tmp_path / "objects")
    store = DatasetStore(objects)
    store.write("goog-1d", goog_frames(goog, 80), timeframe="1d", source="t")
    config = session_config("edit", "sma_cross", {"fast": 10, "slow": 30}, REF)
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    trader = Trader(engine, config)
    stop = threading.Event()
    trader.run(
        DatasetFeed(REF, objects=objects, interval=0, stop=stop), on_bar=lambda t: stop.set() if t == 79 else None
    )
    edited = bars_to_frames(goog.head(90))
    edited["GOOG"].loc[10, "close"] = edited["GOOG"].loc[10, "close"] * 1.01
    edited["GOOG"].loc[10, "high"] = max(edited["GOOG"].loc[10, "high"], edited["GOOG"].loc[10, "close"])
    store.write("goog-1d", edited, timeframe="1d", source="t")
    with pytest.raises(DataError, match="differ from those session 'edit' already traded"):
        trader.run(DatasetFeed(REF, objects=objects, interval=0))
    store.write("goog-1d", goog_frames(goog, 50), timeframe="1d", source="t")
    with pytest.raises(DataError, match="fewer than the 80 already traded"):
        trader.run(DatasetFeed(REF, objects=objects, interval=0))
    engine.dispose()


def test_dc_15_no_new_bar_for_n_timeframes_is_a_stall(tmp_path, goog):
    objects = FolderObjectStore(tmp_path / "objects")
    DatasetStore(objects).write("goog-1d", goog_frames(goog, 40), timeframe="1d", source="t")
    now = [1000.0]
    feed = DatasetFeed(REF, objects=objects, interval=0, stall_bars=3, clock=lambda: now[0])
    updates = feed.updates(after=-1)
    assert next(updates).n_bars == 40
    feed.check()
    now[0] += 3 * 86400 - 1
    feed.check()
    now[0] += 2
    assert feed.stalled()
    with pytest.raises(RuntimeError, match=r"feed dataset:goog-1d stalled: no new bar for 259201 s \(3 timeframes"):
        feed.check()
