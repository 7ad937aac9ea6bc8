"""Live against backtest: a paper session does not diverge; a venue that fills worse than modelled
shows in the figures, on /metrics past the alert's thresholds, and halts the session."""

from __future__ import annotations

from pathlib import Path

import helm_python as helm
import pytest
import yaml
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import ledger, session_config
from tradeops.audit import RISK_ENGINE, AuditLog
from tradeops.data import load_bars
from tradeops.engine.settings import ExecutionSettings
from tradeops.store.models import TraderDivergenceRow
from tradeops.trader.control import HALTED, RUNNING, TraderControl
from tradeops.trader.drills import WorseFillsBroker
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.metrics import TraderCollector
from tradeops.trader.risk import RiskLimits

SMA = {"fast": 5, "slow": 20}
EXECUTION = {"commission": 0.001, "slippage": 0.0005}
CHART = Path(__file__).resolve().parents[3] / "charts" / "tradeops-alerts"


@pytest.fixture
def goog_head():
    return load_bars("sample:GOOG").head(600)


def compared(engine, session_id: str) -> list[TraderDivergenceRow]:
    with Session(engine) as db:
        query = select(TraderDivergenceRow).where(TraderDivergenceRow.session_id == session_id)
        return list(db.scalars(query.order_by(TraderDivergenceRow.bar)))


def trade(engine, bars, name: str, limits: RiskLimits, broker=None) -> TraderControl:
    config = session_config(name, "sma_cross", SMA, "goog", limits, **EXECUTION)
    Trader(engine, config, broker=broker).run(ReplayFeed(bars))
    return TraderControl(engine)


@pytest.mark.req("DC-25")
def test_dc_25_a_paper_session_does_not_diverge_from_its_backtest_at_any_bar(engine, goog_head):
    trade(engine, goog_head, "watched", RiskLimits(divergence_every_bars=1))
    rows = compared(engine, "watched")
    assert [r.bar for r in rows] == list(range(2, goog_head.n_bars))  # every bar the engine can backtest
    assert max(abs(r.equity_drift_bps) for r in rows) < 1e-6 and max(r.slippage_bps for r in rows) < 1e-6
    assert all(r.trades_live == r.trades_backtest and r.position_gap == 0 for r in rows)
    assert rows[-1].fills > 10 and rows[-1].equity_live == pytest.approx(rows[-1].equity_backtest, rel=1e-12)
    trade(engine, goog_head, "unwatched", RiskLimits())
    assert ledger(engine, "watched") == ledger(engine, "unwatched")  # watching changes nothing it trades


@pytest.mark.req("DC-25")
def test_dc_25_the_comparison_runs_only_every_n_bars(engine, goog_head):
    trade(engine, goog_head, "sparse", RiskLimits(divergence_every_bars=50))
    assert [r.bar for r in compared(engine, "sparse")] == list(range(50, goog_head.n_bars, 50))


@pytest.mark.req("DC-25")
def test_dc_25_a_venue_filling_worse_than_modelled_trips_the_alert_and_the_halt(engine, goog_head):
    venue = WorseFillsBroker(ExecutionSettings(**EXECUTION), worse_bps=25)
    control = trade(engine, goog_head, "venue", RiskLimits(max_slippage_bps=10), broker=venue)
    status = control.status("venue")
    assert status.state == HALTED and status.state_reason.startswith("max_slippage_bps breached: 25.00 > 10.00")
    assert status.divergence["slippage_bps"] == pytest.approx(25, rel=1e-9)  # exactly what the venue took
    registry = CollectorRegistry()
    registry.register(TraderCollector(control, "venue", 10_000))
    slippage = registry.get_sample_value("tradeops_trader_divergence_slippage_bps", {"session": "venue"})
    rendered = helm.Chart.load(str(CHART)).render({}, name="tradeops-alerts", namespace="prod", is_install=True)
    rules = next(yaml.safe_load(text) for path, text in rendered.items() if path.endswith("rules.yaml"))
    (diverging,) = [r for r in rules["spec"]["groups"][0]["rules"] if r["alert"] == "TradeopsTraderDiverging"]
    threshold = float(diverging["expr"].split("tradeops_trader_divergence_slippage_bps")[1].split(">")[1])
    assert threshold == 20 and slippage > threshold  # the exported figure is past the rule's threshold


@pytest.mark.req("DC-25")
def test_dc_25_slippage_compounds_into_equity_drift_which_halts_too(engine, goog_head):
    venue = WorseFillsBroker(ExecutionSettings(**EXECUTION), worse_bps=25)
    control = trade(engine, goog_head, "drift", RiskLimits(max_equity_drift_bps=100), broker=venue)
    status = control.status("drift")
    assert status.state == HALTED and "max_equity_drift_bps breached" in status.state_reason
    tripped = next(r for r in compared(engine, "drift") if abs(r.equity_drift_bps) > 100)
    halt = next(e for e in AuditLog(engine).entries(limit=50) if e.actor == RISK_ENGINE and e.target == "drift")
    assert tripped.equity_drift_bps < -100 and halt.detail["bar"] == tripped.bar  # worse fills cost equity
    free = trade(engine, goog_head, "undisturbed", RiskLimits(divergence_every_bars=25), broker=venue)
    assert free.status("undisturbed").state == RUNNING  # without a limit it is only reported
