"""Bundled samples: real bars shipped inside backtesting.py, and a deterministic synthetic market."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from tradeops.errors import DataError

REAL_SAMPLES = {"GOOG": "GOOG.csv", "EURUSD": "EURUSD.csv"}
SYNTHETIC = "synthetic"
MAX_SYNTHETIC_CELLS = 20_000_000  # ~160 MB per field: bounded, whoever asks
SYNTHETIC_DEFAULTS: dict[str, int | str] = {"symbols": 1, "bars": 2520, "seed": 42, "start": "2015-01-02"}


def names() -> list[str]:
    """Return every sample name, as used after `sample:`."""
    return [*REAL_SAMPLES, SYNTHETIC]


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
    raise DataError(f"unknown sample {name!r}; samples: {', '.join(names())}")


def _backtesting_data_dir() -> Path:
    spec = importlib.util.find_spec("backtesting")
    if spec is None or spec.origin is None:
        raise DataError("the backtesting package (which ships the GOOG/EURUSD bars) is not installed")
    return Path(spec.origin).parent / "test"


def _synthetic_options(options: dict[str, str], max_cells: int = MAX_SYNTHETIC_CELLS) -> dict[str, int | str]:
    unknown = set(options) - set(SYNTHETIC_DEFAULTS)
    if unknown:
        raise DataError(
            f"sample:synthetic: unknown option(s) {', '.join(sorted(unknown))}; "
            f"options: {', '.join(SYNTHETIC_DEFAULTS)}"
        )
    merged: dict[str, int | str] = {**SYNTHETIC_DEFAULTS}
    for key, raw in options.items():
        if key == "start":
            try:
                pd.Timestamp(raw)
            except ValueError:
                raise DataError(f"sample:synthetic: option start={raw!r} is not a date like 2015-01-02") from None
            merged[key] = raw
            continue
        try:
            number = int(raw)
        except ValueError as error:
            raise DataError(f"sample:synthetic: option {key}={raw!r} must be a whole number") from error
        merged[key] = number
        if number < (0 if key == "seed" else 1):
            raise DataError(f"sample:synthetic: option {key}={raw!r} is out of range")
    cells = int(merged["symbols"]) * int(merged["bars"])
    if cells > max_cells:
        raise DataError(
            f"sample:synthetic: {merged['symbols']} symbols x {merged['bars']} bars is {cells:,} values "
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
