"""Shared fixtures: real bundled market data and small files written per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tradeops.data import Bars, load_bars

pytest_plugins = ["tests.plugins.requirements"]


@pytest.fixture(scope="session")
def goog() -> Bars:
    """The real GOOG daily bars shipped in backtesting.py."""
    return load_bars("sample:GOOG")


@pytest.fixture(scope="session")
def eurusd() -> Bars:
    """The real EURUSD hourly bars shipped in backtesting.py."""
    return load_bars("sample:EURUSD")


@pytest.fixture
def goog_csv(tmp_path: Path) -> Path:
    """A copy of the first 300 GOOG bars as a plain CSV file the test may corrupt."""
    from tradeops.data.samples import load_sample

    frame = load_sample("GOOG", {}).head(300)
    frame.columns = ["date", "open", "high", "low", "close", "volume"]
    path = tmp_path / "goog.csv"
    frame.to_csv(path, index=False)
    return path


def rewrite(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> Path:
    """Apply `change` to the CSV's frame (in place, or by returning a new frame) and write it back."""
    frame = pd.read_csv(path)
    changed = change(frame)
    (changed if isinstance(changed, pd.DataFrame) else frame).to_csv(path, index=False)
    return path
