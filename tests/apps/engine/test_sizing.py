"""Units follow the market: the engine and the paper broker size to one lot and minimum, crypto bars at crypto prices.

The venue broker (trader/venue/ccxt_broker.py) is to size with `tradeops.engine.sizing.units` too; its side of
the property below is left to the change that makes it do so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.exchange import FakeBinance
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.fetch import FetchPolicy, fetch_dataset, open_exchange
from tradeops.data.load import frame_to_bars
from tradeops.data.samples import BTC_DAILY_LOG_SD, crypto, crypto_regimes
from tradeops.engine import kernel, run_backtest, sizing
from tradeops.engine.backtest import _simulate
from tradeops.engine.settings import ExecutionSettings
from tradeops.errors import DataError
from tradeops.store.objects import FolderObjectStore
from tradeops.strategies import get_strategy
from tradeops.strategies.base import Signals, validate_params
from tradeops.trader.broker import OPEN_LONG, Account, Order, PaperBroker

SMA = get_strategy("sma_cross")
LOTS = st.sampled_from([None, 0.0, 1.0, 1e-5, 0.001, 0.25, 10.0])
MINIMUMS = st.sampled_from([None, 0.0, 1e-5, 0.01, 0.5, 2.0, 50.0])


def one_entry(price: float) -> tuple:
    """Three bars of BTC/USDT at `price` and an entry signal on the first: it fills at the second bar's open."""
    index = pd.date_range("2024-01-01", periods=3, freq="D")
    frame = pd.DataFrame(
        {"timestamp": index, "symbol": "BTC/USDT", "open": price, "high": price, "low": price, "close": price}
    ).assign(volume=1.0)
    bars = frame_to_bars(frame, source="one entry")
    entries = np.zeros((3, 1, 1), dtype=bool)
    entries[0] = True
    none = np.zeros_like(entries)
    return bars, Signals(entries, none, none, none)


@pytest.mark.req("DC-32")
@settings(max_examples=300, deadline=None)
@given(
    cash=st.floats(min_value=1.0, max_value=1e7),
    price=st.floats(min_value=0.01, max_value=100_000.0),
    lot=LOTS,
    minimum=MINIMUMS,
    fees=st.sampled_from([0.0, 0.001]),
)
def test_dc_32_engine_and_paper_broker_size_an_entry_alike_at_any_lot_and_minimum(cash, price, lot, minimum, fees):
    execution = ExecutionSettings(cash=cash, commission=fees, lot_size=lot, min_size=minimum)
    bars, signals = one_entry(price)
    resolved = sizing.for_bars(execution, bars)
    raw, counts, _, trades = _simulate(signals, bars, resolved, record=True)
    engine_size = trades[0, 5] if counts[0] else 0.0
    paper = PaperBroker(resolved).execute(
        Order("o-1", "BTC/USDT", OPEN_LONG), Account.opening(cash), price=price, bar=1, max_size=math.inf
    )
    paper_size = paper.size if paper.filled and paper.size is not None else 0.0
    expected = sizing.units(cash / (1 + fees), price, sizing.lot_code(resolved.lot_size), sizing.lot_code(minimum))
    assert engine_size == paper_size
    assert engine_size == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert raw[0, kernel.SKIPPED_ENTRIES] == (
        0 if engine_size else 1
    )  # an entry that filled nothing is a skipped entry
    if lot:  # a whole number of lots, never more than the cash buys
        assert engine_size / lot == pytest.approx(round(engine_size / lot), rel=1e-9, abs=1e-6)
    assert engine_size * price * (1 + fees) <= cash * (1 + 1e-9)
    if minimum and engine_size:
        assert engine_size >= minimum


@pytest.mark.req("DC-32")
def test_dc_32_units_rounds_down_to_the_lot_and_refuses_amounts_below_the_minimum():
    assert sizing.units(10_000, 30_000, 1.0, np.nan) == 0.0  # whole units: one BTC costs more than the cash
    assert sizing.units(10_000, 30_000, 1e-5, 1e-5) == pytest.approx(0.33333)
    assert sizing.units(10_000, 30_000, np.nan, np.nan) == pytest.approx(1 / 3)
    assert sizing.units(10_000, 30_000, 1e-5, 0.5) == 0.0  # 0.33333 is below a minimum of 0.5
    assert sizing.units(0.0, 30_000, 1e-5, np.nan) == 0.0


@pytest.mark.req("DC-32")
def test_dc_32_crypto_trades_fractions_equities_whole_units_and_a_given_lot_wins(goog):
    btc = load_bars("sample:crypto")
    assert sizing.for_bars(ExecutionSettings(), btc).lot_size == 0.0
    assert sizing.for_bars(ExecutionSettings(), goog).lot_size == 1.0
    assert sizing.for_bars(ExecutionSettings(lot_size=0.01), btc).lot_size == 0.01
    params = validate_params(SMA, {"fast": 10, "slow": 30})
    fractional = run_backtest(SMA, params, btc, ExecutionSettings(commission=0.001))
    sizes = fractional.trades["size"].to_numpy()
    assert fractional.metrics["skipped_entries"] == 0 and (sizes != np.floor(sizes)).all()
    whole = run_backtest(SMA, params, goog, ExecutionSettings(commission=0.001))
    assert (whole.trades["size"] == np.floor(whole.trades["size"])).all() and whole.settings.lot_size == 1.0


@pytest.mark.req("DC-32")
def test_dc_32_the_crypto_sample_is_at_btc_price_levels_and_volatility():
    frame = crypto()
    close = frame["close"].to_numpy()
    log_returns = np.diff(np.log(close))
    assert frame["symbol"].unique().tolist() == ["BTC/USDT"]
    assert close.min() > 2_000 and close.max() < 80_000 and np.median(close) > 5_000
    assert log_returns.std() == pytest.approx(BTC_DAILY_LOG_SD, rel=0.1)
    daily_range = ((frame["high"] - frame["low"]) / frame["close"]).mean()
    assert 0.03 < daily_range < 0.07
    assert frame.equals(crypto()) and not frame.equals(crypto(seed=8))  # seeded: same arguments, same bars
    assert (pd.to_datetime(frame["timestamp"]).diff().dropna() == pd.Timedelta("1D")).all()  # weekends too


def _variance_ratio(close: np.ndarray, days: int = 30) -> float:
    """Variance of `days`-day log returns over `days` x that of daily ones: about 1 for a random walk, above 1 when
    moves persist (trends)."""
    log_close = np.log(close)
    return float((log_close[days:] - log_close[:-days]).var() / (days * np.diff(log_close).var()))


@pytest.mark.req("DC-32")
def test_dc_32_the_regime_sample_trends_at_btc_price_levels_volatility_and_tails():
    frame = load_bars("sample:crypto?regimes=1")
    assert list(frame.symbols) == ["BTC/USDT"]
    assert np.array_equal(frame.close[:, 0], crypto_regimes()["close"].to_numpy())
    seeds = range(8)
    regimes = [crypto_regimes(seed=seed)["close"].to_numpy() for seed in seeds]
    walks = [crypto(seed=seed)["close"].to_numpy() for seed in seeds]
    for close in regimes:
        log_returns = np.diff(np.log(close))
        assert 0.034 <= log_returns.std() <= 0.045  # BTC's daily sd is about 3.7%
        assert 3_000 < close.min() < 10_000 and 25_000 < close.max() < 200_000  # BTC: 3,200 to 73,000 (2017-2024)
        assert pd.Series(log_returns).kurt() > 1  # fat tails: a normal walk's excess kurtosis is 0
    # moves persist for weeks in the regimes; a random walk's 30-day moves are as its daily ones predict
    assert np.mean([_variance_ratio(c) for c in regimes]) > np.mean([_variance_ratio(c) for c in walks]) + 0.1
    assert crypto_regimes(bars=300).equals(crypto_regimes(bars=300))
    assert not crypto_regimes(bars=300).equals(crypto_regimes(bars=300, seed=8))
    assert np.array_equal(load_bars("sample:crypto?regimes=0").close[:, 0], crypto()["close"].to_numpy())
    with pytest.raises(DataError, match=r"sample:crypto: option regimes='2' is out of range"):
        load_bars("sample:crypto?regimes=2")


@pytest.mark.req("DC-32")
def test_dc_32_a_fetched_dataset_records_its_markets_precision_and_minimum_and_backtests_size_to_them(tmp_path):
    frame = crypto(bars=300)
    stamps = pd.to_datetime(frame["timestamp"]).astype("int64") // 1_000_000
    candles = [
        [int(t), *(float(frame[f].iloc[i]) for f in ("open", "high", "low", "close", "volume"))]
        for i, t in enumerate(stamps)
    ]
    fake = FakeBinance()
    try:
        fake.add_market("BTC", "USDT", candles)
        fake.now_ms = int(stamps.iloc[-1]) + 86_400_000
        objects = FolderObjectStore(tmp_path / "objects")
        report = fetch_dataset(
            DatasetStore(objects),
            open_exchange("binance", base_url=fake.url),
            dataset="btc-1d",
            symbols=["BTC/USDT"],
            timeframe="1d",
            since=pd.Timestamp(int(stamps.iloc[0]), unit="ms").to_pydatetime(),
            policy=FetchPolicy(attempts=2, backoff_seconds=0.01),
        )
    finally:
        fake.stop()
    units = report.manifest.units["BTC/USDT"]
    assert (units.lot_size, units.min_size) == (1e-5, 1e-5)  # the venue's LOT_SIZE filter, through ccxt
    bars = load_bars("dataset:btc-1d", objects=objects)
    result = run_backtest(SMA, validate_params(SMA, {"fast": 10, "slow": 30}), bars, ExecutionSettings())
    assert (result.settings.lot_size, result.settings.min_size) == (1e-5, 1e-5)
    lots = result.trades["size"].to_numpy() / 1e-5
    assert len(lots) > 3 and np.allclose(lots, np.round(lots), atol=1e-6)
