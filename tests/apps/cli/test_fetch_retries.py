"""`data fetch` says each retry as it happens: which attempt of how many failed, why, and how long it waits."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.apps.cli.test_cli import cli
from tests.fakes.exchange import MINUTE_MS, FakeBinance, walk

START = 1_700_000_040_000  # a whole minute


@pytest.fixture
def market_data():
    fake = FakeBinance()
    fake.add_market("BTC", "USDT", walk(START, 300))
    fake.now_ms = START + 300 * MINUTE_MS
    yield fake
    fake.stop()


@pytest.mark.req("DC-67")
def test_dc_67_data_fetch_prints_each_retry_with_its_attempt_wait_and_reason(market_data, monkeypatch, capsys):
    monkeypatch.setenv("TRADEOPS_EXCHANGE_BASE_URL", market_data.url)
    monkeypatch.setenv("TRADEOPS_FETCH_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("TRADEOPS_FETCH_ATTEMPTS", "4")
    market_data.faults.extend([502, 502])
    since = pd.Timestamp(START, unit="ms").isoformat()
    code, out, err = cli(monkeypatch, capsys, "data", "fetch", "--exchange", "binance", "--symbol", "BTC/USDT",
                         "--timeframe", "1m", "--since", since, "--dataset", "btc-1m")  # fmt: skip
    assert code == 0 and "2 retried request(s)" in out, (out, err)
    lines = [line for line in err.splitlines() if "retrying in" in line]
    assert len(lines) == 2, err
    assert "attempt 1/4 failed" in lines[0] and "retrying in 0.01s (OperationFailed)" in lines[0], lines
    assert "attempt 2/4 failed" in lines[1] and "retrying in 0.02s" in lines[1], lines
