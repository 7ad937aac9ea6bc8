"""Pre-trade checks: each rejects what it should and lets the rest through; rejections are audited,
notified, counted and, in a burst, halt the trader. A paper session with loose limits stays the backtest."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.apps.trader.conftest import ledger, orders, session_config
from tradeops.audit import AuditLog
from tradeops.data import load_bars
from tradeops.engine.settings import ExecutionSettings
from tradeops.notify.console import ConsoleNotifier
from tradeops.trader import pretrade
from tradeops.trader.broker import CLOSE, OPEN_LONG, OPEN_SHORT, Account, Order, PaperBroker, Proposal
from tradeops.trader.control import HALTED, RUNNING, TraderControl
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.pretrade import Context, SentOrder, check
from tradeops.trader.risk import RiskLimits

SMA = {"fast": 5, "slow": 20}
MONEY = st.floats(1.0, 1e7, allow_nan=False)
INTENTS = st.sampled_from([OPEN_LONG, OPEN_SHORT, CLOSE])
SIDES = st.sampled_from(["buy", "sell"])


@st.composite
def proposals(draw, symbol: str = "AAA") -> Proposal:
    size, price = draw(st.floats(1e-3, 1e4)), draw(st.floats(1e-2, 1e5))
    order = Order(draw(st.sampled_from(["s:1", "s:2", "s:3"])), symbol, draw(INTENTS))
    return Proposal(order, draw(SIDES), size, price, size * price)


def calm(proposal: Proposal, **changes) -> Context:
    """A context no check objects to, with `changes` laid over it."""
    values = {
        "last_close": proposal.price,
        "notionals": {},
        "balance": float("inf"),
        "sent": (),
        "open_orders": frozenset(),
        "now": 1000.0,
    }
    return Context(**(values | changes))


def over(value: float, limit: float) -> bool:
    return value > limit * (1 + pretrade.TOLERANCE)


# -- each check, alone, rejects exactly what breaks it -----------------------------------------
@pytest.mark.req("DC-25")
@given(proposal=proposals())
def test_dc_25_with_no_limits_every_order_passes(proposal):
    assert check(proposal, RiskLimits(require_balance=False), calm(proposal, balance=0.0)) is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), limit=MONEY)
def test_dc_25_max_order_notional_rejects_entries_over_it_and_never_a_close(proposal, limit):
    found = check(proposal, RiskLimits(max_order_notional=limit), calm(proposal))
    if proposal.order.intent != CLOSE and over(proposal.notional, limit):
        assert found is not None and found.limit == "max_order_notional"
    else:
        assert found is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), held=MONEY, other=MONEY, limit=MONEY)
def test_dc_25_max_position_notional_counts_what_the_symbol_holds_already(proposal, held, other, limit):
    context = calm(proposal, notionals={"AAA": held, "BBB": other})
    found = check(proposal, RiskLimits(max_position_notional=limit), context)
    if proposal.order.intent != CLOSE and over(held + proposal.notional, limit):
        assert found is not None and found.limit == "max_position_notional" and "AAA" in found.reason
    else:
        assert found is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), held=st.lists(MONEY, max_size=4), limit=MONEY)
def test_dc_25_max_total_notional_counts_every_symbol(proposal, held, limit):
    context = calm(proposal, notionals={f"S{i}": value for i, value in enumerate(held)})
    found = check(proposal, RiskLimits(max_total_notional=limit), context)
    if proposal.order.intent != CLOSE and over(sum(held) + proposal.notional, limit):
        assert found is not None and found.limit == "max_total_notional"
    else:
        assert found is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), balance=st.floats(0, 1e9), required=st.booleans())
def test_dc_25_an_entry_needs_the_free_cash_it_spends(proposal, balance, required):
    found = check(proposal, RiskLimits(require_balance=required), calm(proposal, balance=balance))
    if required and proposal.order.intent != CLOSE and over(proposal.notional, balance):
        assert found is not None and found.limit == "require_balance"
    else:
        assert found is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), move=st.floats(-0.9, 5.0), collar=st.floats(0.01, 100))
def test_dc_25_the_price_collar_rejects_any_order_too_far_from_the_last_close(proposal, move, collar):
    last_close = proposal.price / (1 + move)
    found = check(proposal, RiskLimits(price_collar_pct=collar), calm(proposal, last_close=last_close))
    if over(abs(proposal.price / last_close - 1) * 100, collar):
        assert found is not None and found.limit == "price_collar_pct"  # a close too: a bad price is bad both ways
    else:
        assert found is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), ages=st.lists(st.floats(0, 300), max_size=12), limit=st.integers(1, 8))
def test_dc_25_max_orders_per_minute_counts_sends_of_the_last_60_seconds(proposal, ages, limit):
    sent = tuple(SentOrder(f"old:{i}", "ZZZ", "buy", 1.0, 1000.0 - age) for i, age in enumerate(sorted(ages)[::-1]))
    found = check(proposal, RiskLimits(max_orders_per_minute=limit), calm(proposal, sent=sent))
    if sum(age < 60 for age in ages) >= limit:
        assert found is not None and found.limit == "max_orders_per_minute"
    else:
        assert found is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), age=st.floats(0, 100), window=st.floats(0.5, 50), same_size=st.booleans())
def test_dc_25_the_duplicate_guard_refuses_a_repeat_within_its_window(proposal, age, window, same_size):
    size = proposal.size if same_size else proposal.size * 2
    earlier = SentOrder("other", "AAA", proposal.side, size, 1000.0 - age)
    found = check(proposal, RiskLimits(duplicate_window_seconds=window), calm(proposal, sent=(earlier,)))
    if same_size and age < window:
        assert found is not None and found.limit == "duplicate_order" and "other" in found.reason
    else:
        assert found is None


@pytest.mark.req("DC-25")
@given(proposal=proposals(), working=st.booleans(), window=st.one_of(st.none(), st.floats(1, 100)))
def test_dc_25_an_order_still_working_is_never_sent_again_and_a_retry_is_no_duplicate(proposal, working, window):
    order = proposal.order
    limits = RiskLimits(duplicate_window_seconds=window)
    found = check(proposal, limits, calm(proposal, open_orders={order.id} if working else set()))
    assert (found is not None and found.limit == "duplicate_order") is working
    failed_send = SentOrder(order.id, order.symbol, proposal.side, proposal.size, 999.0)  # its transaction rolled back
    assert check(proposal, limits, calm(proposal, sent=(failed_send,))) is None


# -- the paper broker proposes what it executes ------------------------------------------------
@pytest.mark.req("DC-25")
@given(
    cash=st.floats(10, 1e6),
    price=st.floats(0.5, 5e4),
    intent=INTENTS,
    held=st.floats(-50, 50),
    fractional=st.booleans(),
    max_size=st.one_of(st.just(float("inf")), st.floats(0.01, 1e3)),
)
@settings(max_examples=200, deadline=None)  # the first call compiles the kernel
def test_dc_25_the_paper_broker_proposes_exactly_the_order_it_executes(cash, price, intent, held, fractional, max_size):
    broker = PaperBroker(ExecutionSettings(commission=0.001, slippage=0.0005, fractional_units=fractional))
    account = Account(cash=cash, position=held if intent == CLOSE else 0.0, free_cash=cash)
    order = Order("s:1", "AAA", intent)
    proposal = broker.propose(order, account, price=price, max_size=max_size)
    done = broker.execute(order, account, price=price, bar=3, max_size=max_size)
    assert (proposal is not None) is done.filled
    if proposal is not None:
        assert (proposal.size, proposal.price) == (abs(done.size), done.price)
        assert proposal.side == ("buy" if done.account.position > account.position else "sell")
        assert proposal.notional == pytest.approx(proposal.size * proposal.price)


# -- in the loop -----------------------------------------------------------------------------------
@pytest.fixture
def goog_head():
    return load_bars("sample:GOOG").head(500)


def replay(engine, bars, tmp_path, limits: RiskLimits, name: str, **options) -> list[dict]:
    notes = tmp_path / f"{name}.jsonl"
    config = session_config(name, "sma_cross", SMA, "goog", limits)
    Trader(engine, config, notifier=ConsoleNotifier(notes), **options).run(ReplayFeed(bars))
    return [json.loads(line) for line in notes.read_text().splitlines()] if notes.exists() else []


@pytest.mark.req("DC-25")
def test_dc_25_an_entry_over_max_order_notional_is_rejected_audited_notified_and_counted(engine, goog_head, tmp_path):
    messages = replay(engine, goog_head, tmp_path, RiskLimits(max_order_notional=5_000), "capped")
    rejected = [o for o in orders(engine, "capped") if o.status == "rejected"]
    assert rejected and all(o.reason.startswith("max_order_notional: order notional") for o in rejected)
    assert all(o.status != "filled" for o in orders(engine, "capped"))  # never resized to fit: refused
    entries = [e for e in AuditLog(engine).entries(limit=500) if e.action == "trader.order.rejected"]
    assert len(entries) == len(rejected) and {e.detail["limit"] for e in entries} == {"max_order_notional"}
    assert all(e.detail["notional"] > 5_000 and e.outcome == "rejected" for e in entries)
    notes = [m for m in messages if m["kind"] == "trader_rejection"]
    assert len(notes) == len(rejected) and "max_order_notional" in notes[0]["title"]
    counted = pretrade.counts(engine, "capped")
    assert counted["max_order_notional"] == len(rejected) and sum(counted.values()) == len(rejected)
    assert TraderControl(engine).status("capped").state == RUNNING  # no burst limit set: it trades on


@pytest.mark.req("DC-25")
def test_dc_25_a_burst_of_rejections_halts_the_trader(engine, goog_head, tmp_path):
    limits = RiskLimits(max_order_notional=5_000, rejection_burst=3, rejection_window_bars=400)
    messages = replay(engine, goog_head, tmp_path, limits, "burst")
    status = TraderControl(engine).status("burst")
    assert status.state == HALTED and "rejection_burst breached: 3.00" in status.state_reason
    assert pretrade.counts(engine, "burst")["max_order_notional"] == 3  # the halt refuses everything after
    assert any(o.reason == "trader halted" for o in orders(engine, "burst"))
    assert [m["title"] for m in messages if m["kind"] == "trader_state"] == ["Trader burst is now HALTED"]


@pytest.mark.req("DC-25")
def test_dc_25_max_orders_per_minute_counts_wall_clock_sends(engine, goog_head, tmp_path):
    frozen = replay(engine, goog_head, tmp_path, RiskLimits(max_orders_per_minute=2), "frozen", clock=lambda: 0.0)
    sent = [o for o in orders(engine, "frozen") if o.status == "filled"]
    refused = [o for o in orders(engine, "frozen") if o.status == "rejected"]
    assert len(sent) == 2 and refused and all(o.reason.startswith("max_orders_per_minute: 2 orders") for o in refused)
    assert frozen  # each refusal was announced
    minutes = itertools.count(step=61.0)  # one send a minute never meets the limit
    replay(engine, goog_head, tmp_path, RiskLimits(max_orders_per_minute=1), "paced", clock=lambda: next(minutes))
    free = replay(engine, goog_head, tmp_path, RiskLimits(), "free")
    assert not free and ledger(engine, "paced") == ledger(engine, "free")


@pytest.mark.req("DC-25")
def test_dc_25_limits_the_session_never_meets_leave_the_paper_session_exactly_the_backtest(engine, goog_head, tmp_path):
    loose = RiskLimits(
        max_order_notional=1e9,
        max_total_notional=1e9,
        max_orders_per_minute=10_000,
        price_collar_pct=50,
        duplicate_window_seconds=0.001,
        rejection_burst=1,
    )
    replay(engine, goog_head, tmp_path, loose, "loose")
    replay(engine, goog_head, tmp_path, RiskLimits(), "plain")
    assert ledger(engine, "loose") == ledger(engine, "plain")
    assert not [e for e in AuditLog(engine).entries(limit=500) if e.action == "trader.order.rejected"]


@pytest.mark.req("DC-25")
def test_dc_25_a_tight_price_collar_refuses_orders_at_a_gapped_open(engine, goog_head, tmp_path):
    replay(engine, goog_head, tmp_path, RiskLimits(price_collar_pct=0.5), "collar")
    gapped = [o for o in orders(engine, "collar") if o.status == "rejected"]
    assert gapped and all(o.reason.startswith("price_collar_pct: price") for o in gapped)
    opens, closes = goog_head.open[:, 0], goog_head.close[:, 0]
    for o in gapped:  # the open it would have traded at was more than 0.5% from the close before it
        assert abs(opens[o.decided_bar + 1] / closes[o.decided_bar] - 1) > 0.005


@pytest.mark.req("DC-25")
def test_dc_25_trader_replay_takes_the_limits_and_trader_audit_names_them(monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    args = ["trader", "replay", "--strategy", "sma_cross", "--data", "sample:synthetic?bars=400", "--json"]
    burst = ["--rejection-burst", "2", "--rejection-window-bars", "400"]
    code, out, _ = cli(monkeypatch, capsys, *args, "--max-order-notional", "100", *burst)
    session = json.loads(out)["session"]
    assert code == 0 and session["state"] == "halted" and "rejection_burst" in session["state_reason"]
    code, out, _ = cli(monkeypatch, capsys, "trader", "audit", "--json", "--limit", "50")
    rejected = [e for e in json.loads(out) if e["action"] == "trader.order.rejected"]
    assert code == 0 and len(rejected) == 2 and {e["detail"]["limit"] for e in rejected} == {"max_order_notional"}
    code, _, err = cli(monkeypatch, capsys, *args, "--max-order-notional", "-5")
    assert code == 2 and "invalid risk limits" in err and "max_order_notional" in err and "Traceback" not in err
