"""Risk limits and the kill switch: each moves the trader to HALTED or REDUCING, notifies, audits, and holds."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import orders, session_config
from tradeops.audit import AuditLog
from tradeops.data import load_bars
from tradeops.errors import ConfigError, DataError
from tradeops.notify.console import ConsoleNotifier
from tradeops.store.database import open_engine
from tradeops.store.models import TraderEquityRow
from tradeops.trader.control import HALTED, REDUCING, RUNNING, TraderControl
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import RISK_ENGINE, Trader
from tradeops.trader.risk import RiskLimits

SMA = {"fast": 5, "slow": 20}


@pytest.fixture
def goog_head():
    return load_bars("sample:GOOG").head(700)


def trip_bar(engine, session_id: str) -> int:
    entry = next(e for e in AuditLog(engine).entries(limit=500) if e.actor == RISK_ENGINE and e.target == session_id)
    return int(entry.detail["bar"])


def run(engine, bars, tmp_path, limits: RiskLimits, name: str = "risk") -> tuple[Trader, list[dict]]:
    notes = tmp_path / f"{name}.jsonl"
    trader = Trader(engine, session_config(name, "sma_cross", SMA, "goog", limits), notifier=ConsoleNotifier(notes))
    trader.run(ReplayFeed(bars))
    messages = [json.loads(line) for line in notes.read_text().splitlines()] if notes.exists() else []
    return trader, messages


@pytest.mark.req("DC-12")
def test_dc_12_max_drawdown_halts_notifies_audits_and_no_order_fills_afterwards(engine, goog_head, tmp_path):
    _, messages = run(engine, goog_head, tmp_path, RiskLimits(max_drawdown_pct=8))
    status = TraderControl(engine).status("risk")
    assert status.state == HALTED and "max_drawdown_pct breached" in status.state_reason
    tripped = trip_bar(engine, "risk")
    assert [m["title"] for m in messages] == ["Trader risk is now HALTED"] and messages[0]["ok"] is False
    later = [o for o in orders(engine, "risk") if o.decided_bar >= tripped]
    assert later and all(o.status == "rejected" and o.reason == "trader halted" for o in later)
    with Session(engine) as db:
        exposure = {p.bar: p.exposure for p in db.scalars(select(TraderEquityRow)) if p.bar >= tripped}
    assert len({round(e > 0) for e in exposure.values()}) == 1  # whatever was held stays held, untouched


@pytest.mark.req("DC-12")
def test_dc_12_a_tripped_halt_holds_until_resumed_then_trading_goes_on(engine, goog_head, tmp_path):
    run(engine, goog_head.head(400), tmp_path, RiskLimits(max_drawdown_pct=8))
    tripped = trip_bar(engine, "risk")
    held = [o for o in orders(engine, "risk") if o.decided_bar >= tripped]
    assert tripped < 300 and held and all(o.status == "rejected" for o in held)  # halted for 100+ bars
    assert TraderControl(engine).status("risk").state == HALTED
    TraderControl(engine).set_state(RUNNING, actor="alice", reason="loss understood", session_id="risk")
    run(engine, goog_head, tmp_path, RiskLimits(max_drawdown_pct=20))  # the restart brings looser limits
    after = [o for o in orders(engine, "risk") if o.decided_bar >= 399]
    assert any(o.status == "filled" for o in after)
    entries = [(e.actor, e.action, e.outcome) for e in AuditLog(engine).entries(limit=50)]
    assert entries[:2] == [("alice", "trader.running", "applied"), (RISK_ENGINE, "trader.halted", "applied")]


@pytest.mark.req("DC-12")
def test_dc_12_max_daily_loss_halts(engine, goog_head, tmp_path):
    run(engine, goog_head, tmp_path, RiskLimits(max_daily_loss_pct=3))
    status = TraderControl(engine).status("risk")
    assert status.state == HALTED and "max_daily_loss_pct breached" in status.state_reason


@pytest.mark.req("DC-12")
def test_dc_12_position_notional_caps_entries_and_growth_past_it_reduces(engine, goog_head, tmp_path):
    cap = 3_000.0
    run(engine, goog_head, tmp_path, RiskLimits(max_position_notional=cap))
    filled = [o for o in orders(engine, "risk") if o.status == "filled" and o.intent != "close"]
    assert filled and all(o.size * o.price <= cap for o in filled)  # sized under the cap, not all-in
    status = TraderControl(engine).status("risk")
    assert status.state == REDUCING and "max_position_notional[GOOG]" in status.state_reason
    tripped = trip_bar(engine, "risk")
    later = [o for o in orders(engine, "risk") if o.decided_bar >= tripped]
    assert all(o.status in ("rejected", "pending") for o in later if o.intent != "close")
    assert any(o.intent == "close" and o.status == "filled" for o in later)  # exits still reduce exposure


@pytest.mark.req("DC-12")
def test_dc_12_the_kill_switch_cli_changes_state_and_writes_the_audit_log(monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    engine = open_engine(f"sqlite:///{tmp_path / 'tradeops.db'}")
    Trader(engine, session_config("desk", "sma_cross", SMA, "goog")).run(ReplayFeed(load_bars("sample:GOOG").head(60)))
    code, _, err = cli(monkeypatch, capsys, "trader", "halt", "--reason", "news at 3pm", "--actor", "bob")
    assert code == 0 and "HALTED" in err
    assert cli(monkeypatch, capsys, "trader", "halt", "--reason", "again", "--actor", "bob")[0] == 0
    assert cli(monkeypatch, capsys, "trader", "reduce-only", "--reason", "unwind", "--session", "desk")[0] == 0
    code, out, _ = cli(monkeypatch, capsys, "trader", "status", "--json")
    assert code == 0 and json.loads(out)["state"] == REDUCING
    assert cli(monkeypatch, capsys, "trader", "resume", "--reason", "all clear", "--actor", "bob")[0] == 0
    code, out, _ = cli(monkeypatch, capsys, "trader", "audit", "--json")
    entries = json.loads(out)
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("trader.running", "applied"),
        ("trader.reducing", "applied"),
        ("trader.halted", "unchanged"),
        ("trader.halted", "applied"),
    ]
    assert entries[-1]["actor"] == "bob" and entries[-1]["detail"]["reason"] == "news at 3pm"
    assert "@" in entries[1]["actor"]  # no --actor: user@host
    code, out, _ = cli(monkeypatch, capsys, "trader", "audit")
    assert code == 0 and "trader.halted" in out
    code, _, err = cli(monkeypatch, capsys, "trader", "halt", "--reason", "x", "--session", "nope")
    assert code == 2 and "no trading session 'nope'" in err
    code, _, err = cli(monkeypatch, capsys, "trader", "halt", "--reason", " ")
    assert code == 2 and "needs a reason" in err


@pytest.mark.req("DC-12")
def test_dc_12_bad_limits_and_a_changed_session_are_refused_clearly(engine, goog_head):
    with pytest.raises(ValueError, match="max_drawdown_pct"):
        RiskLimits(max_drawdown_pct=0)
    with pytest.raises(ConfigError, match="unknown trader state"):
        TraderControl(engine).set_state("paused", actor="a", reason="why")
    Trader(engine, session_config("fixed", "sma_cross", SMA, "goog"))
    with pytest.raises(ConfigError, match="different params"):
        Trader(engine, session_config("fixed", "sma_cross", {"fast": 6, "slow": 20}, "goog"))


@pytest.mark.req("DC-12")
def test_dc_12_a_replay_with_limits_is_its_own_session_and_says_how_it_ended(monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    args = ["trader", "replay", "--strategy", "sma_cross", "--data", "sample:synthetic?bars=400", "--json"]
    code, out, _ = cli(monkeypatch, capsys, *args)
    free = json.loads(out)["session"]
    code, out, _ = cli(monkeypatch, capsys, *args, "--max-drawdown-pct", "1")
    limited = json.loads(out)["session"]
    assert code == 0 and limited["id"] != free["id"]  # the limits are part of what the session is
    assert free["state"] == "running" and limited["state"] == "halted" and "max_drawdown_pct" in limited["state_reason"]
    notes = [json.loads(line) for line in (tmp_path / "notifications.log").read_text().splitlines()]
    assert any(n["kind"] == "trader_state" and "HALTED" in n["title"] for n in notes)


@pytest.mark.req("DC-12", "DC-7")
def test_dc_12_dc_7_a_session_refuses_bars_that_differ_from_those_it_traded(engine, goog_head):
    config = session_config("edited", "sma_cross", SMA, "goog")
    Trader(engine, config).run(ReplayFeed(goog_head.head(300)))
    close = goog_head.close[:400].copy()
    close[100, 0] *= 1.01  # someone "fixed" a bar the session already traded on
    edited = dataclasses.replace(goog_head.head(400), close=close)
    with pytest.raises(DataError, match="the first 300 bars differ from those session 'edited' already traded"):
        Trader(engine, config).run(ReplayFeed(edited))
    Trader(engine, config).run(ReplayFeed(goog_head.head(400)))  # the same history, longer: it goes on
    assert TraderControl(engine).status("edited").last_bar == 399


@pytest.mark.req("DC-12")
def test_dc_12_a_halt_while_the_loop_runs_holds_from_the_next_bar(engine, goog_head):
    import threading
    import time

    trader = Trader(engine, session_config("live", "sma_cross", SMA, "goog"))
    runner = threading.Thread(target=trader.run, args=(ReplayFeed(goog_head, speed=400),))
    runner.start()
    while TraderControl(engine).status("live").last_bar < 200:
        time.sleep(0.01)
    halted_at = TraderControl(engine).set_state(HALTED, actor="dana", reason="check", session_id="live").last_bar
    runner.join(60)
    assert TraderControl(engine).status("live").state == HALTED  # no bar overwrote it
    later = [o for o in orders(engine, "live") if o.decided_bar > halted_at]
    assert later and all(o.status == "rejected" for o in later)


@pytest.mark.req("DC-16")
def test_dc_16_the_cli_cannot_claim_a_reserved_actor(monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    engine = open_engine(f"sqlite:///{tmp_path / 'tradeops.db'}")
    Trader(engine, session_config("desk", "sma_cross", SMA, "goog")).run(ReplayFeed(load_bars("sample:GOOG").head(60)))
    for reserved in ("risk-engine", "Risk-Engine", "slack:U0BOSS", "token:api-client", " "):
        code, _, err = cli(monkeypatch, capsys, "trader", "halt", "--reason", "mine", "--actor", reserved)
        assert code == 2 and "reserved" in err, (reserved, err)
    assert AuditLog(engine).entries() == []
