"""One venue client: `data fetch` and the venue broker open ccxt in one place and retry under one policy."""

from __future__ import annotations

import itertools
import sys
import time

import pandas as pd
import pytest

from tests.apps.cli.test_cli import cli as _cli
from tests.apps.trader.venue_helpers import broker, funded_venue
from tests.fakes.exchange import MINUTE_MS, FakeBinance, walk
from tradeops.cli import main
from tradeops.data.datasets import DatasetStore
from tradeops.data.fetch import FetchPolicy, fetch_dataset, open_exchange
from tradeops.errors import DataError, VenueError
from tradeops.store.objects import FolderObjectStore
from tradeops.trader.venue import exchange as trader_exchange
from tradeops.venues import client
from tradeops.venues.client import Deadline, Wait, retrying

pytestmark = pytest.mark.req("DC-29")
START = 1_700_000_040_000  # a whole minute
MARKETS = "/api/v3/exchangeInfo"  # what the broker reads first (load_markets), through `retrying`


@pytest.fixture
def venue():
    fake = funded_venue()
    yield fake
    fake.stop()


@pytest.fixture
def market_data():
    fake = FakeBinance()
    fake.add_market("BTC", "USDT", walk(START, 300))
    fake.now_ms = START + 300 * MINUTE_MS
    yield fake
    fake.stop()


def _fetch(fake: FakeBinance, tmp_path, policy: FetchPolicy):
    store = DatasetStore(FolderObjectStore(tmp_path / "objects"))
    since = pd.Timestamp(START, unit="ms").to_pydatetime()
    exchange = open_exchange("binance", base_url=fake.url)
    return fetch_dataset(store, exchange, dataset="btc-1m", symbols=["BTC/USDT"], timeframe="1m", since=since,
                         policy=policy)  # fmt: skip


def _gaps(fake: FakeBinance, path: str) -> list[float]:
    times = [at for at, where, _ in fake.requests if where == path]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_dc_29_the_trader_and_data_fetch_share_one_client_module():
    assert trader_exchange.open_venue is client.open_venue and open_exchange is client.open_exchange
    assert trader_exchange.retrying is client.retrying and trader_exchange.Deadline is client.Deadline


def test_dc_29_data_fetch_and_the_broker_both_wait_out_a_venues_retry_after(market_data, venue, tmp_path):
    market_data.retry_after = venue.retry_after = "1"
    market_data.faults.append(429)
    waits: list[Wait] = []
    report = _fetch(market_data, tmp_path, FetchPolicy(attempts=3, backoff_seconds=0.01, on_wait=waits.append))
    assert report.manifest.bars == 300 and report.symbols[0].retries == 1
    assert _gaps(market_data, "/api/v3/klines")[0] >= 1.0  # not the policy's 0.01 s: the venue's 1 s
    ((wait,),) = [waits]
    assert wait.seconds == 1.0 and "Retry-After 1s" in wait.reason

    venue.fault_paths = {MARKETS}
    venue.faults.append(429)
    trading = broker(venue)  # backoff 0.05 s, deadline 6 s
    assert trading.market("SYN000")["symbol"] == "BTC/USDT"
    (gap,) = _gaps(venue, MARKETS)
    assert gap >= 1.0


def test_dc_29_a_deadline_bounds_the_whole_call_however_the_venue_answers(market_data, venue, tmp_path):
    venue.fault_paths = {MARKETS}
    venue.faults.extend([503] * 200)  # no Retry-After: backing off until the deadline
    started = time.monotonic()
    with pytest.raises(VenueError, match="no answer from the venue in time"):
        broker(venue, deadline=Deadline(request_seconds=0.5, order_seconds=1.0, backoff_seconds=0.05)).market("SYN000")
    assert 0.5 < time.monotonic() - started < 1.5

    venue.retry_after = "30"  # a wait past the deadline is not begun
    started = time.monotonic()
    with pytest.raises(VenueError, match="it asked to wait 30s"):
        broker(venue, deadline=Deadline(request_seconds=0.5, order_seconds=5.0)).market("SYN000")
    assert time.monotonic() - started < 1.0

    market_data.storm_status = 502
    started = time.monotonic()
    with pytest.raises(DataError, match="no answer from the venue in time"):
        _fetch(market_data, tmp_path, FetchPolicy(attempts=20, backoff_seconds=0.05, deadline_seconds=1.0))
    assert 0.5 < time.monotonic() - started < 1.5


def test_dc_29_a_refused_api_key_is_never_retried():
    import ccxt

    calls = []

    def refused() -> None:
        calls.append(time.monotonic())
        raise ccxt.AuthenticationError("Invalid API-key")

    with pytest.raises(VenueError, match="refused the API key"):
        retrying("read the balances", refused, Deadline(order_seconds=5.0))
    with pytest.raises(DataError, match="refused the API key"):
        retrying("read the markets", refused, Deadline(order_seconds=5.0), failure=DataError)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("0.5", 0.5), ("soon", None), (None, None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_dc_29_retry_after_is_read_in_seconds_or_as_a_date(header, seconds):
    assert client.retry_after({"Retry-After": header} if header else {}) == seconds


def test_dc_29_data_fetch_shows_each_retry_on_stderr(market_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOPS_EXCHANGE_BASE_URL", market_data.url)
    monkeypatch.setenv("TRADEOPS_FETCH_BACKOFF_SECONDS", "0.01")
    market_data.retry_after = "1"
    market_data.faults.extend([429, 502])
    since = pd.Timestamp(START, unit="ms").isoformat()
    argv = ["tradeops", "data", "fetch", "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1m",
            "--since", since, "--dataset", "btc-1m"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    assert done.value.code in (0, None) and "2 retried request(s)" in captured.out
    lines = [line for line in captured.err.splitlines() if "retrying in" in line]
    assert len(lines) == 2
    assert lines[0].endswith("retrying in 1s (DDoSProtection, Retry-After 1s)")
    assert lines[1].endswith("retrying in 0.02s (OperationFailed)")  # the second try's backoff, doubled


@pytest.mark.req("DC-67")
def test_dc_29_dc_67_data_fetch_prints_each_retry_with_its_attempt_wait_and_reason(market_data, monkeypatch, capsys):
    monkeypatch.setenv("TRADEOPS_EXCHANGE_BASE_URL", market_data.url)
    monkeypatch.setenv("TRADEOPS_FETCH_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("TRADEOPS_FETCH_ATTEMPTS", "4")
    market_data.faults.extend([502, 502])
    since = pd.Timestamp(START, unit="ms").isoformat()
    code, out, err = _cli(monkeypatch, capsys, "data", "fetch", "--exchange", "binance", "--symbol", "BTC/USDT",
                         "--timeframe", "1m", "--since", since, "--dataset", "btc-1m")  # fmt: skip
    assert code == 0 and "2 retried request(s)" in out, (out, err)
    lines = [line for line in err.splitlines() if "retrying in" in line]
    assert len(lines) == 2, err
    assert "attempt 1/4 failed" in lines[0] and "retrying in 0.01s (OperationFailed)" in lines[0], lines
    assert "attempt 2/4 failed" in lines[1] and "retrying in 0.02s" in lines[1], lines
