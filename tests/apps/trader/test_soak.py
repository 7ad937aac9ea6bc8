"""The soak a promotion reads (DC-22): whatever cannot be measured says what is missing, never passes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import session_config
from tradeops.data import load_bars
from tradeops.gate.candidate import Candidate
from tradeops.store.database import open_engine
from tradeops.store.models import TraderEquityRow
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.soak import SoakUnavailable, measure_soak, open_ledger

CANDIDATE = Candidate(strategy="sma_cross", params={"fast": 10, "slow": 30}, data="sample:GOOG")


@pytest.mark.req("DC-22")
def test_dc_22_a_soak_that_cannot_be_measured_names_what_is_missing(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    since = datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(SoakUnavailable, match="no paper session 'soak' in the trader's ledger"):
        measure_soak(engine, "soak", CANDIDATE, since)
    config = session_config("soak", "sma_cross", {"fast": 10, "slow": 30}, "sample:GOOG")
    Trader(engine, config).run(ReplayFeed(load_bars("sample:GOOG").head(120)))

    evidence = measure_soak(engine, "soak", CANDIDATE, since)
    assert evidence.bars == 120 and evidence.divergence_bps == 0 and evidence.state == "running"

    other = CANDIDATE.model_copy(update={"params": {"fast": 5, "slow": 30}})
    with pytest.raises(SoakUnavailable, match=r"trades sma_cross .* not the bundle"):
        measure_soak(engine, "soak", other, since)
    with pytest.raises(SoakUnavailable, match="traded other bars than 'sample:EURUSD' holds"):
        measure_soak(engine, "soak", CANDIDATE.model_copy(update={"data": "sample:EURUSD"}), since)
    with pytest.raises(SoakUnavailable, match=r"has 50 bars; the session traded 120"):
        measure_soak(engine, "soak", CANDIDATE.model_copy(update={"data": "sample:synthetic?bars=50"}), since)
    with pytest.raises(SoakUnavailable, match="data 'sample:NOPE' unreadable"):
        measure_soak(engine, "soak", CANDIDATE.model_copy(update={"data": "sample:NOPE"}), since)
    with Session(engine) as db:
        db.execute(delete(TraderEquityRow))
        db.commit()
    with pytest.raises(SoakUnavailable, match="has traded no bar yet"):
        measure_soak(engine, "soak", CANDIDATE, since)
    with pytest.raises(SoakUnavailable, match="the trader's ledger is unreachable: connection failed"):
        open_ledger("postgresql+psycopg://tradeops@127.0.0.1:9/ledger?connect_timeout=2")
