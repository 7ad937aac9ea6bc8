"""`data fetch` through ccxt against a local fake speaking Binance's public REST wire format."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import pandas as pd
import pytest

from tests.fakes.exchange import MINUTE_MS, FakeBinance, walk
from tradeops.cli import main
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.fetch import FetchPolicy, fetch_dataset, open_exchange
from tradeops.errors import DataError
from tradeops.store.objects import FolderObjectStore

pytestmark = pytest.mark.req("DC-15")
START = 1_700_000_040_000  # a whole minute
QUICK = FetchPolicy(attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)


@pytest.fixture
def fake():
    exchange = FakeBinance()
    yield exchange
    exchange.stop()


@pytest.fixture
def store(tmp_path):
    return DatasetStore(FolderObjectStore(tmp_path / "objects"))


def since() -> datetime:
    return pd.Timestamp(START, unit="ms").to_pydatetime()


def fetch(store, fake, policy=QUICK, **options):
    exchange = open_exchange("binance", base_url=fake.url)
    return fetch_dataset(
        store, exchange, dataset="btc-1m", symbols=["BTC/USDT"], timeframe="1m", policy=policy, **options
    )


def test_dc_15_pages_through_the_venue_rate_limited_and_never_stores_the_forming_candle(fake, store):
    fake.add_market("BTC", "USDT", walk(START, 4321))
    fake.now_ms = START + 4320 * MINUTE_MS + 20_000  # the candle at 4320 opened 20 s ago: still forming
    report = fetch(store, fake, since=since())
    (symbol,) = report.symbols
    assert report.created and report.manifest.bars == 4320 and symbol.forming_dropped == 1
    assert symbol.pages >= 5 and symbol.retries == 0
    assert open_exchange("binance").enableRateLimit and len(fake.klines_requests()) == symbol.pages  # ccxt throttles
    bars = load_bars("dataset:btc-1m", objects=store.objects)
    assert bars.symbols == ("BTC/USDT",) and bars.index[-1] == pd.Timestamp(START + 4319 * MINUTE_MS, unit="ms")
    assert bars.close[:, 0].tolist() == [c[4] for c in walk(START, 4320)]


def test_dc_15_a_rerun_fetches_only_newer_bars_and_unchanged_data_makes_no_version(fake, store):
    market = fake.add_market("BTC", "USDT", walk(START, 1200))
    fake.now_ms = START + 1000 * MINUTE_MS
    first = fetch(store, fake, since=since())
    again = fetch(store, fake)
    assert first.manifest.bars == 1000 and not again.created and again.manifest.version == first.manifest.version
    fake.now_ms = START + 1200 * MINUTE_MS
    before = len(fake.klines_requests())
    later = fetch(store, fake)
    assert later.created and later.manifest.bars == 1200 and later.symbols[0].new_bars == 200
    assert int(fake.klines_requests()[before][1]["startTime"]) == START + 1000 * MINUTE_MS
    assert market.candles[0][0] == START
    assert [m.version for m in store.versions("btc-1m")] == [first.manifest.version, later.manifest.version]


def test_dc_15_a_429_then_success_is_retried_with_backoff(fake, store):
    fake.add_market("BTC", "USDT", walk(START, 600))
    fake.now_ms = START + 600 * MINUTE_MS
    fake.faults.extend([429, 503])
    waits = []
    policy = FetchPolicy(attempts=4, backoff_seconds=0.01, sleep=waits.append)
    report = fetch(store, fake, policy=policy, since=since())
    assert report.manifest.bars == 600 and report.symbols[0].retries == 2
    assert waits == [0.01, 0.02]  # doubling


def test_dc_15_a_5xx_storm_fails_and_the_previous_version_stays_the_latest(fake, store):
    fake.add_market("BTC", "USDT", walk(START, 3000))
    fake.now_ms = START + 1000 * MINUTE_MS
    good = fetch(store, fake, since=since()).manifest
    fake.now_ms = START + 3000 * MINUTE_MS
    fake.storm_status = 502
    with pytest.raises(DataError, match=r"failed after 4 attempts: (ExchangeNotAvailable|OperationFailed)"):
        fetch(store, fake)
    assert [m.version for m in store.versions("btc-1m")] == [good.version]
    assert load_bars("dataset:btc-1m", objects=store.objects).n_bars == 1000


def test_dc_15_gaps_are_reported_not_filled_and_repeated_candles_dropped(fake, store):
    candles = walk(START, 500)
    del candles[100:110]
    candles.insert(200, list(candles[200]))  # the venue sends one candle twice
    fake.add_market("BTC", "USDT", candles)
    fake.now_ms = START + 500 * MINUTE_MS
    report = fetch(store, fake, since=since())
    (symbol,) = report.symbols
    assert symbol.missing_bars == 10 and symbol.duplicates_dropped == 1 and report.manifest.bars == 490
    assert report.manifest.gaps["symbols"]["BTC/USDT"]["largest"]["missing"] == 10


def test_dc_15_a_candle_with_high_below_low_is_refused_naming_symbol_and_time(fake, store):
    candles = walk(START, 300)
    candles[150][2], candles[150][3] = 90.0, 110.0  # high < low
    fake.add_market("BTC", "USDT", candles)
    fake.now_ms = START + 300 * MINUTE_MS
    bad_time = str(pd.Timestamp(START + 150 * MINUTE_MS, unit="ms"))
    with pytest.raises(DataError, match=rf"(?s)binance BTC/USDT 1m: .*{bad_time}.*column .(high|low)."):
        fetch(store, fake, since=since())
    assert store.names() == []


def test_dc_15_a_conflicting_duplicate_candle_is_refused(fake, store):
    candles = walk(START, 300)
    twin = list(candles[40])
    twin[4] += 0.1
    candles.insert(41, twin)
    fake.add_market("BTC", "USDT", candles)
    fake.now_ms = START + 300 * MINUTE_MS
    with pytest.raises(DataError, match="duplicate timestamp"):
        fetch(store, fake, since=since())


def test_dc_15_bad_requests_get_one_clear_line(fake, store):
    fake.add_market("BTC", "USDT", walk(START, 10))
    fake.now_ms = START + 10 * MINUTE_MS
    with pytest.raises(DataError, match="first fetch of a dataset needs --since"):
        fetch(store, fake)
    with pytest.raises(DataError, match="has no market ETH/USDT"):
        fetch_dataset(
            store, open_exchange("binance", base_url=fake.url), dataset="x", symbols=["ETH/USDT"], timeframe="1m"
        )
    with pytest.raises(DataError, match="offers"):
        fetch_dataset(
            store, open_exchange("binance", base_url=fake.url), dataset="x", symbols=["BTC/USDT"], timeframe="7m"
        )
    with pytest.raises(DataError, match="not a ccxt exchange id"):
        open_exchange("nonsense")


def test_dc_15_data_fetch_and_sync_commands_write_versions(fake, tmp_path, monkeypatch, capsys):
    fake.add_market("BTC", "USDT", walk(START, 2000))
    fake.now_ms = START + 1500 * MINUTE_MS
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOPS_EXCHANGE_BASE_URL", fake.url)

    def cli(*args):
        monkeypatch.setattr(sys, "argv", ["tradeops", *args])
        with pytest.raises(SystemExit) as done:
            main()
        captured = capsys.readouterr()
        return int(done.value.code or 0), captured.out, captured.err

    since_text = pd.Timestamp(START, unit="ms").isoformat()
    code, out, _ = cli(
        "data",
        "fetch",
        "--exchange",
        "binance",
        "--symbol",
        "BTC/USDT",
        "--timeframe",
        "1m",
        "--since",
        since_text,
        "--dataset",
        "btc-1m",
    )
    assert code == 0 and "1,500 new closed bar(s)" in out and "forming candle not stored: 1" in out
    fake.now_ms = START + 2000 * MINUTE_MS
    sources = [
        {"dataset": "btc-1m", "exchange": "binance", "symbols": ["BTC/USDT"], "timeframe": "1m", "since": since_text}
    ]
    monkeypatch.setenv("TRADEOPS_MARKET_DATASETS", json.dumps(sources))
    code, out, _ = cli("data", "sync")
    assert code == 0 and "500 new closed bar(s)" in out
    code, out, _ = cli("data", "list", "--json")
    assert [v["bars"] for v in json.loads(out)["btc-1m"]] == [1500, 2000]
    fake.storm_status = 500
    fake.now_ms = START + 2100 * MINUTE_MS
    monkeypatch.setenv("TRADEOPS_FETCH_ATTEMPTS", "2")
    monkeypatch.setenv("TRADEOPS_FETCH_BACKOFF_SECONDS", "0")
    code, _, err = cli("data", "sync")
    assert code == 2 and "failed after 2 attempts" in err
