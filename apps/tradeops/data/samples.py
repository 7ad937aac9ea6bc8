"""Bundled samples: real bars shipped inside backtesting.py, and a deterministic synthetic market."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from tradeops.errors import DataError

REAL_SAMPLES = {"GOOG": "GOOG.csv", "EURUSD": "EURUSD.csv"}
SYNTHETIC = "synthetic"
CRYPTO = "crypto"
CRYPTO_DEFAULTS: dict[str, int | str] = {"bars": 2000, "seed": 7, "start": "2017-08-17", "regimes": 0}
MAX_SYNTHETIC_CELLS = 20_000_000  # ~160 MB per field: bounded, whoever asks
SYNTHETIC_DEFAULTS: dict[str, int | str] = {"symbols": 1, "bars": 2520, "seed": 42, "start": "2015-01-02"}
OPTION_RANGES: dict[str, tuple[int, int | None]] = {"seed": (0, None), "regimes": (0, 1)}  # others: at least 1


def names() -> list[str]:
    """Return every sample name, as used after `sample:`."""
    return [*REAL_SAMPLES, SYNTHETIC, CRYPTO]


def load_sample(name: str, options: dict[str, str], *, max_cells: int | None = None) -> pd.DataFrame:
    """Return the raw frame of a sample; loaders validate it like any file."""
    if name in REAL_SAMPLES:
        if options:
            raise DataError(f"sample:{name} takes no options (got {', '.join(options)})")
        return pd.read_csv(_backtesting_data_dir() / REAL_SAMPLES[name])
    if name == SYNTHETIC:
        settings = _synthetic_options(options, min(max_cells or MAX_SYNTHETIC_CELLS, MAX_SYNTHETIC_CELLS))
        return synthetic(
            symbols=int(settings["symbols"]),
            bars=int(settings["bars"]),
            seed=int(settings["seed"]),
            start=str(settings["start"]),
        )
    if name == CRYPTO:
        chosen = _synthetic_options(
            options, min(max_cells or MAX_SYNTHETIC_CELLS, MAX_SYNTHETIC_CELLS), CRYPTO_DEFAULTS, CRYPTO
        )
        generate = crypto_regimes if int(chosen["regimes"]) else crypto
        return generate(bars=int(chosen["bars"]), seed=int(chosen["seed"]), start=str(chosen["start"]))
    raise DataError(f"unknown sample {name!r}; samples: {', '.join(names())}")


def _backtesting_data_dir() -> Path:
    spec = importlib.util.find_spec("backtesting")
    if spec is None or spec.origin is None:
        raise DataError("the backtesting package (which ships the GOOG/EURUSD bars) is not installed")
    return Path(spec.origin).parent / "test"


def _synthetic_options(
    options: dict[str, str],
    max_cells: int = MAX_SYNTHETIC_CELLS,
    defaults: dict[str, int | str] = SYNTHETIC_DEFAULTS,
    name: str = SYNTHETIC,
) -> dict[str, int | str]:
    unknown = set(options) - set(defaults)
    if unknown:
        raise DataError(
            f"sample:{name}: unknown option(s) {', '.join(sorted(unknown))}; options: {', '.join(defaults)}"
        )
    merged: dict[str, int | str] = {**defaults}
    for key, raw in options.items():
        if key == "start":
            try:
                pd.Timestamp(raw)
            except ValueError:
                raise DataError(f"sample:{name}: option start={raw!r} is not a date like 2015-01-02") from None
            merged[key] = raw
            continue
        try:
            number = int(raw)
        except ValueError as error:
            raise DataError(f"sample:{name}: option {key}={raw!r} must be a whole number") from error
        merged[key] = number
        low, high = OPTION_RANGES.get(key, (1, None))
        if number < low or (high is not None and number > high):
            raise DataError(f"sample:{name}: option {key}={raw!r} is out of range")
    cells = int(merged.get("symbols", 1)) * int(merged["bars"])
    if cells > max_cells:
        raise DataError(
            f"sample:{name}: {merged.get('symbols', 1)} symbols x {merged['bars']} bars is {cells:,} values "
            f"per field; at most {max_cells:,} (the memory cap: TRADEOPS_MEMORY_LIMIT_MIB, docs/backtester.md)"
        )
    return merged


def synthetic(*, symbols: int = 1, bars: int = 2520, seed: int = 42, start: str = "2015-01-02") -> pd.DataFrame:
    """Generate daily business-day OHLCV bars for `symbols` symbols: same arguments, same bars.

    Each symbol is a geometric random walk with slowly switching drift regimes (so trend and
    mean-reversion strategies both find something), overnight gaps, and consistent high/low.
    """
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(start=start, periods=bars, name="timestamp")
    shape = (bars, symbols)
    regime = np.cumsum(rng.random(shape) < 0.01, axis=0, dtype=np.int64)
    drift = rng.normal(0.0, 0.0015, size=(int(regime.max()) + 1, symbols))
    daily_drift = np.take_along_axis(drift, regime, axis=0)
    volatility = rng.uniform(0.01, 0.025, size=symbols)
    close_return = daily_drift + rng.standard_normal(shape) * volatility
    gap = rng.standard_normal(shape) * volatility * 0.3
    start_price = rng.uniform(20, 200, size=symbols)
    close = start_price * np.exp(np.cumsum(close_return, axis=0))
    previous_close = np.vstack([start_price, close[:-1]])
    open_ = previous_close * np.exp(gap)
    wick = np.abs(rng.standard_normal((2, *shape))) * volatility * 0.5
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = np.round(rng.lognormal(13, 0.4, size=shape))
    names_ = [f"SYN{i:03d}" for i in range(symbols)]
    frames = [
        pd.DataFrame(
            {
                "timestamp": index,
                "symbol": name,
                "open": open_[:, i],
                "high": high[:, i],
                "low": low[:, i],
                "close": close[:, i],
                "volume": volume[:, i],
            }
        )
        for i, name in enumerate(names_)
    ]
    return pd.concat(frames, ignore_index=True)


BTC_DAILY_LOG_SD = 0.037  # standard deviation of BTC/USDT's daily log return, 2017-2024 (about 3.5-4%)
BTC_TREND = (8_000.0, 40_000.0)  # the trend the walk reverts to, from the first bar to the last
BTC_REVERSION = 0.004  # per day: the walk wanders far from the trend (years-long swings) yet comes back
BTC_WICK_SD = 0.012  # each wick beyond open/close: BTC's mean daily high-low range is about 4-5% of the close


def crypto(*, bars: int = 2000, seed: int = 7, start: str = "2017-08-17") -> pd.DataFrame:
    """Generate daily BTC/USDT-like bars, every calendar day (crypto trades through weekends): same arguments,
    same bars.

    Calibrated to BTC/USDT daily bars on Binance, 2017-2024: daily log-return standard deviation 3.7%
    (`BTC_DAILY_LOG_SD`), a mean high-low range of about 4-5% of the close, price levels from about 3,000
    to 70,000 around a trend rising from 8,000 to 40,000 (mean-reverting in log price, so it keeps to those
    levels over any length); volumes in BTC (thousands a day). A seeded stand-in for the real bars, never
    equity bars relabelled: a test of a crypto market sizes and fills at that market's prices.
    """
    rng = np.random.default_rng(seed)
    index = pd.date_range(start=start, periods=bars, freq="D", name="timestamp")
    trend = np.linspace(np.log(BTC_TREND[0]), np.log(BTC_TREND[1]), bars)
    shocks = rng.standard_normal(bars) * BTC_DAILY_LOG_SD
    deviation = np.zeros(bars)
    for t in range(1, bars):
        deviation[t] = deviation[t - 1] * (1 - BTC_REVERSION) + shocks[t]
    close = np.exp(trend + deviation)
    previous = np.concatenate([[close[0] * np.exp(-shocks[0])], close[:-1]])
    return _btc_bars(rng, index, close, previous)


def _btc_bars(
    rng: np.random.Generator, index: pd.DatetimeIndex, close: np.ndarray, previous: np.ndarray
) -> pd.DataFrame:
    """BTC/USDT bars around `close`: opens near the previous close (a 24/7 market barely gaps), wicks, volumes."""
    bars = len(close)
    open_ = previous * np.exp(rng.standard_normal(bars) * BTC_DAILY_LOG_SD * 0.05)
    wick = np.abs(rng.standard_normal((2, bars))) * BTC_WICK_SD
    return pd.DataFrame(
        {
            "timestamp": index,
            "symbol": "BTC/USDT",
            "open": open_,
            "high": np.maximum(open_, close) * np.exp(wick[0]),
            "low": np.minimum(open_, close) * np.exp(-wick[1]),
            "close": close,
            "volume": np.round(rng.lognormal(np.log(40_000), 0.5, size=bars), 5),
        }
    )


BTC_BULL = (0.004, 0.034, 70)  # a bull regime: daily log drift, daily log-return sd, mean length in days
BTC_BEAR = (-0.004, 0.042, 45)  # a bear regime: falls as fast, more volatile, shorter on average
BTC_TAIL_DF = 5  # Student-t degrees of freedom of the daily shocks: excess kurtosis 6, as BTC's (about 5-10)
BTC_OVERSHOOT = 3.0  # a regime ends sooner by e^(3 x its log distance past the trend): bubbles burst, crashes end


def crypto_regimes(*, bars: int = 2000, seed: int = 7, start: str = "2017-08-17") -> pd.DataFrame:
    """Generate daily BTC/USDT-like bars with bull and bear regimes (`sample:crypto?regimes=1`): same arguments,
    same bars.

    Synthetic, not BTC's history; what it takes from BTC/USDT daily bars on Binance, 2017-2024, is their trends.
    A two-state Markov chain switches between a bull regime (drift +0.4% a day, daily log-return sd 3.4%,
    lasting 70 days on average: `BTC_BULL`) and a bear regime (drift -0.4% a day, sd 4.2%, 45 days:
    `BTC_BEAR`), so runs last weeks to months; over 2,000 bars the daily log-return sd is 3.4-4.2% (median
    3.75%, BTC's is about 3.7%: `BTC_DAILY_LOG_SD`). These trends are milder than BTC's big cycles (2017:
    about +1.2% a day for four months; 2018 and 2022: about -0.45% a day for a year), so a trend strategy
    finds no more here than it would in BTC. Shocks are Student-t with 5 degrees of freedom (`BTC_TAIL_DF`):
    fat tails, some 15-20% days. A regime ends sooner the further the price has run past a trend rising from
    8,000 to 40,000 (`BTC_TREND`, `BTC_OVERSHOOT`), which keeps prices at BTC's levels over any length: across
    seeds lows of 3,400-8,000 and highs of 28,000-185,000 (BTC: 3,200 and 73,000 by 2024); the default seed
    4,200-47,000. Wicks, gaps and volumes as `crypto`; every calendar day.
    """
    rng = np.random.default_rng(seed)
    index = pd.date_range(start=start, periods=bars, freq="D", name="timestamp")
    trend = np.linspace(np.log(BTC_TREND[0]), np.log(BTC_TREND[1]), bars)
    shocks = rng.standard_t(BTC_TAIL_DF, size=bars) / np.sqrt(BTC_TAIL_DF / (BTC_TAIL_DF - 2))  # unit variance
    switch = rng.random(bars)
    log_close = np.empty(bars)
    log_close[0], bull = trend[0], True
    for t in range(bars):
        drift, volatility, mean_days = BTC_BULL if bull else BTC_BEAR
        if t:
            log_close[t] = log_close[t - 1] + drift + volatility * shocks[t]
        past_trend = (log_close[t] - trend[t]) * (1 if bull else -1)
        if switch[t] < np.exp(BTC_OVERSHOOT * past_trend) / mean_days:
            bull = not bull
    close = np.exp(log_close)
    previous = np.concatenate([[close[0]], close[:-1]])
    return _btc_bars(rng, index, close, previous)
