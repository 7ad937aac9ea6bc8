"""A session stored before the execution model changed resumes with the settings it was started with."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tests.apps.trader.conftest import session_config
from tradeops.data import load_bars
from tradeops.errors import ConfigError
from tradeops.store.models import TraderSessionRow
from tradeops.trader.loop import Trader

DATA = "sample:synthetic?symbols=2&bars=60"


@pytest.mark.req("DC-32")
def test_dc_32_a_session_stored_with_fractional_units_resumes_as_lot_size(engine):
    bars = load_bars(DATA)
    trader = Trader(engine, session_config("old", "sma_cross", {"fast": 5, "slow": 20}, DATA, lot_size=1.0))
    for t in range(30):
        trader.step(bars, t)
    stored = trader.config.execution.model_dump(mode="json")
    old = {k: v for k, v in stored.items() if k not in ("lot_size", "min_size")} | {"fractional_units": False}
    with engine.begin() as connection:  # as a session written before lot sizes replaced fractional_units
        connection.execute(update(TraderSessionRow).where(TraderSessionRow.id == "old").values(execution=old))
    resumed = Trader(engine, session_config("old", "sma_cross", {"fast": 5, "slow": 20}, DATA, lot_size=1.0))
    assert resumed.last_bar == 29
    with pytest.raises(ConfigError, match="different execution"):  # other settings are still refused
        Trader(engine, session_config("old", "sma_cross", {"fast": 5, "slow": 20}, DATA, lot_size=0.0))
