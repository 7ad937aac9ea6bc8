"""The trading loop on a venue: orders placed once, reconciled, halted on a difference, killed at the venue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import session_config
from tests.apps.trader.venue_helpers import broker, duplicates, set_prices
from tradeops.audit import AuditLog
from tradeops.data import load_bars
from tradeops.errors import ConfigError
from tradeops.store.database import open_engine
from tradeops.store.models import TraderOrderRow
from tradeops.trader.broker import OPEN_LONG, Account, Order
from tradeops.trader.control import HALTED, TraderControl
from tradeops.trader.loop import Trader
from tradeops.trader.risk import RiskLimits
from tradeops.trader.venue.ccxt_broker import client_order_id
from tradeops.trader.venue.kill import withdraw
from tradeops.trader.venue.reconcile import accept_venue, reconcile
from tradeops.trader.venue.session import VenueSession

pytestmark = pytest.mark.req("DC-24")
DATA = "sample:synthetic?symbols=2&bars=240"


def venue_trader(tmp_path, fake, *, every: int = 40) -> Trader:
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    config = session_config("live", "sma_cross", {"fast": 5, "slow": 20}, DATA, cash=20_000.0)
    chosen = broker(fake)
    return Trader(engine, config, broker=chosen, venue=VenueSession(chosen, reconcile_every=every))


def trade(trader: Trader, fake, bars, until: int) -> None:
    for t in range(trader.last_bar + 1, until):
        set_prices(fake, {symbol: float(bars.open[t, s]) for s, symbol in enumerate(bars.symbols)})
        trader.step(bars, t)


def filled(trader: Trader) -> list[TraderOrderRow]:
    with Session(trader.engine) as db:
        return list(db.scalars(select(TraderOrderRow).where(TraderOrderRow.status == "filled")))


def test_dc_24_a_session_on_the_venue_places_each_order_once_and_reconciles(tmp_path, fake):
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    trade(trader, fake, bars, bars.n_bars)
    orders = filled(trader)
    assert len(orders) >= 10
    print(f"orders placed and reconciled against the fake venue: {len(orders)}")
    assert len(fake.account.orders) == len(orders) and duplicates(fake) == {}
    by_cid = {o["clientOrderId"]: o for o in fake.account.orders}
    for order in orders:  # the ledger's fill is the venue's
        venue = by_cid[client_order_id_of(order)]
        assert order.size == pytest.approx(float(venue["executedQty"]))
        assert order.price == pytest.approx(float(venue["cummulativeQuoteQty"]) / float(venue["executedQty"]))
    found = reconcile(trader.engine, "live", trader.broker)  # type: ignore[arg-type]
    assert found.ok, found.differences
    assert TraderControl(trader.engine).status("live").state != HALTED


def client_order_id_of(row: TraderOrderRow) -> str:
    from tradeops.trader.broker import Order

    return client_order_id(Order(row.id, row.symbol, row.intent))


def test_dc_24_a_balance_changed_behind_our_back_halts_until_the_operator_accepts_it(tmp_path, fake):
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake, every=20)
    trade(trader, fake, bars, 60)
    fake.account.balances["USDT"] -= Decimal("123.45")  # a withdrawal nobody told the trader about
    trade(trader, fake, bars, 81)
    status = TraderControl(trader.engine).status("live")
    assert status.state == HALTED and "USDT" in (status.state_reason or "")
    mismatch = AuditLog(trader.engine).entries(action_prefix="venue.mismatch")[-1]  # the first, at bar 60
    assert mismatch.detail["bar"] == 60
    assert mismatch.detail["differences"][0]["kind"] == "balance"
    venue_usdt = mismatch.detail["balances"]["USDT"]
    assert venue_usdt["venue"] - venue_usdt["expected"] == pytest.approx(-123.45)
    placed = len(fake.account.orders)
    trade(trader, fake, bars, 120)  # halted: nothing more goes to the venue
    assert len(fake.account.orders) == placed

    fixed = accept_venue(trader.engine, "live", trader.broker, actor="ops", reason="withdrawal to cold storage")  # type: ignore[arg-type]
    assert fixed.ok
    (correction,) = AuditLog(trader.engine).entries(action_prefix="venue.correction")
    assert correction.actor == "ops" and correction.detail["changes"]["USDT"] == pytest.approx(-123.45)


def test_dc_24_an_unknown_open_order_is_reported_never_adopted_or_cancelled(tmp_path, fake):
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake, every=10)
    trade(trader, fake, bars, 25)
    trader.broker.exchange.create_order(  # type: ignore[attr-defined]
        "ETH/USDT", "limit", "buy", 0.1, 50.0, params={"newClientOrderId": "someone-else-1"}
    )
    trade(trader, fake, bars, 31)
    found = reconcile(trader.engine, "live", trader.broker)  # type: ignore[arg-type]
    assert [(d.kind, d.key) for d in found.differences] == [("open_order", "someone-else-1")]
    assert TraderControl(trader.engine).status("live").state == HALTED
    assert [o["clientOrderId"] for o in fake.account.open_orders()] == ["someone-else-1"]  # still there
    with pytest.raises(ConfigError, match="cancel or settle them first"):
        accept_venue(trader.engine, "live", trader.broker, actor="ops", reason="adopt it")  # type: ignore[arg-type]


def test_dc_24_halt_cancels_the_venues_open_orders_and_flatten_closes_positions(tmp_path, fake):
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    for t in range(bars.n_bars):  # trade until the session holds a position
        trade(trader, fake, bars, t + 1)
        if any(trader_positions(trader).values()):
            break
    exchange = trader.broker.exchange  # type: ignore[attr-defined]
    exchange.create_order("BTC/USDT", "limit", "buy", 0.1, 50.0, params={"newClientOrderId": "resting-1"})
    halted = TraderControl(trader.engine).set_state(HALTED, actor="ops", reason="drill", session_id="live")
    report = withdraw(trader.engine, trader.broker, halted, actor="ops", reason="drill", flatten=True)  # type: ignore[arg-type]
    assert [c["client_id"] for c in report["cancelled"]] == ["resting-1"] and report["failed"] == []
    assert fake.account.open_orders() == []
    assert report["flattened"] and all(f["filled"] for f in report["flattened"])
    assert all(trader.broker.is_flat(s, p) for s, p in trader_positions(trader).items())  # type: ignore[attr-defined]
    assert TraderControl(trader.engine).status("live").state == HALTED
    assert reconcile(trader.engine, "live", trader.broker).ok  # type: ignore[arg-type]
    (halt,) = AuditLog(trader.engine).entries(action_prefix="venue.halt")
    assert halt.outcome == "applied" and halt.detail["cancelled"][0]["client_id"] == "resting-1"


def trader_positions(trader: Trader) -> dict[str, float]:
    return TraderControl(trader.engine).status("live").positions


def test_dc_24_catching_up_on_old_bars_sends_nothing_to_the_venue(tmp_path, fake):
    bars = load_bars(DATA)  # synthetic bars from the past: each is older than a minute
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    config = session_config("live", "sma_cross", {"fast": 5, "slow": 20}, DATA, cash=20_000.0)
    chosen = broker(fake)
    trader = Trader(engine, config, broker=chosen, venue=VenueSession(chosen, max_bar_age_seconds=60))
    trade(trader, fake, bars, 120)
    with Session(engine) as db:
        reasons = {o.reason for o in db.scalars(select(TraderOrderRow))}
    assert reasons and all(r.startswith("stale bar") for r in reasons)
    assert fake.account.orders == []


def test_dc_24_a_restart_reconciles_before_sending_the_orders_decided_before_it(tmp_path, fake):
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    t = 0
    while not pending(trader):  # stop right after a bar that decided an order
        trade(trader, fake, bars, t + 1)
        t += 1
    decided = {o.id for o in pending(trader)}
    placed = len(fake.account.orders)
    fake.account.balances["USDT"] -= Decimal("50")  # while the trader was down
    restarted = venue_trader(tmp_path, fake)
    trade(restarted, fake, bars, t + 1)
    assert len(fake.account.orders) == placed  # the decided order was not sent: the difference came first
    rejected = {o.id: o.reason for o in pending(restarted, "rejected")}
    assert all(rejected.get(order_id) == "trader halted" for order_id in decided)
    assert TraderControl(restarted.engine).status("live").state == HALTED


def pending(trader: Trader, status: str = "pending") -> list[TraderOrderRow]:
    with Session(trader.engine) as db:
        return list(db.scalars(select(TraderOrderRow).where(TraderOrderRow.status == status)))


@pytest.mark.req("DC-25")
def test_dc_24_dc_25_a_venue_order_over_a_pre_trade_limit_is_rejected_and_never_sent(tmp_path, fake):
    bars = load_bars(DATA)
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    limits = RiskLimits(max_order_notional=50.0)  # every entry of this session is larger
    config = session_config("live", "sma_cross", {"fast": 5, "slow": 20}, DATA, limits, cash=20_000.0)
    chosen = broker(fake)
    trader = Trader(engine, config, broker=chosen, venue=VenueSession(chosen, reconcile_every=40))
    trade(trader, fake, bars, 120)
    with Session(engine) as db:
        rejected = list(db.scalars(select(TraderOrderRow).where(TraderOrderRow.status == "rejected")))
    assert rejected and all(order.reason.startswith("max_order_notional:") for order in rejected)
    assert fake.account.orders == []  # nothing reached the venue
    audited = AuditLog(engine).entries(limit=500, action_prefix="trader.order.rejected")
    assert {e.detail["order"] for e in audited} == {order.id for order in rejected}


@pytest.mark.req("DC-25")
def test_dc_24_dc_25_a_burst_of_venue_rejections_counts_each_rejection_once(tmp_path, fake):
    bars = load_bars(DATA)
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    limits = RiskLimits(max_order_notional=50.0, rejection_burst=3, rejection_window_bars=400)
    config = session_config("live", "sma_cross", {"fast": 5, "slow": 20}, DATA, limits, cash=20_000.0)
    chosen = broker(fake)
    trader = Trader(engine, config, broker=chosen, venue=VenueSession(chosen, reconcile_every=1000))
    for t in range(bars.n_bars):
        set_prices(fake, {symbol: float(bars.open[t, s]) for s, symbol in enumerate(bars.symbols)})
        trader.step(bars, t)
        if TraderControl(engine).status("live").state == HALTED:
            break
    status = TraderControl(engine).status("live")
    with Session(engine) as db:
        rejected = [o for o in db.scalars(select(TraderOrderRow).where(TraderOrderRow.status == "rejected"))]
    assert status.state == HALTED and "rejection_burst breached: 3.00" in (status.state_reason or "")
    assert sum(o.reason.startswith("max_order_notional:") for o in rejected) == 3  # not halted at the second


def test_dc_24_an_entry_too_small_for_the_venues_precision_is_not_sent(fake):
    chosen = broker(fake)
    symbol = next(iter(chosen.symbols))
    tiny = Account.opening(0.0005)  # cash for less than one step of the venue's lot size
    assert chosen.propose(Order("live:1:0:0", symbol, OPEN_LONG), tiny, price=100.0, max_size=float("inf")) is None


def test_dc_24_accepting_the_venue_waits_for_an_order_in_flight(tmp_path, fake):
    """An order sent and not yet settled may have filled at the venue only: no correction is right then."""
    from datetime import UTC, datetime

    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake, every=20)
    trade(trader, fake, bars, 30)
    fake.account.balances["USDT"] -= Decimal("5")
    with Session(trader.engine) as db, db.begin():
        db.add(
            TraderOrderRow(
                id="live:30:in-flight", session_id="live", symbol="SYN000", intent=OPEN_LONG, decided_bar=29,
                status="sent", reason=None, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    with pytest.raises(ConfigError, match="order live:30:in-flight is in flight at the venue"):
        accept_venue(trader.engine, "live", trader.broker, actor="ops", reason="fee rebate")  # type: ignore[arg-type]
    assert AuditLog(trader.engine).entries(action_prefix="venue.correction") == []
    with Session(trader.engine) as db, db.begin():
        db.get(TraderOrderRow, "live:30:in-flight").status = "unfilled"  # type: ignore[union-attr]
    fixed = accept_venue(trader.engine, "live", trader.broker, actor="ops", reason="fee rebate")  # type: ignore[arg-type]
    assert fixed.ok


def test_dc_24_the_running_trader_sees_what_flatten_and_accept_venue_wrote_to_its_ledger(tmp_path, fake):
    """The loop keeps the session in memory between bars: writes by the kill switch or an operator must reach it."""
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake, every=5)
    for t in range(bars.n_bars):  # trade until the session holds a position
        trade(trader, fake, bars, t + 1)
        if any(trader_positions(trader).values()):
            break
    control = TraderControl(trader.engine)
    halted = control.set_state(HALTED, actor="ops", reason="drill", session_id="live")
    withdraw(trader.engine, trader.broker, halted, actor="ops", reason="drill", flatten=True)  # type: ignore[arg-type]
    trade(trader, fake, bars, trader.last_bar + 3)  # halted bars: the loop writes its memory back
    fake.account.balances["USDT"] += Decimal("7")  # a rebate, accepted by the operator while the loop runs
    accept_venue(trader.engine, "live", trader.broker, actor="ops", reason="fee rebate")  # type: ignore[arg-type]
    trade(trader, fake, bars, trader.last_bar + 3)
    control.set_state("running", actor="ops", reason="drill over", session_id="live")
    trade(trader, fake, bars, bars.n_bars)
    assert reconcile(trader.engine, "live", trader.broker).ok  # type: ignore[arg-type]
    assert TraderControl(trader.engine).status("live").state == "running"
    assert duplicates(fake) == {}


@pytest.mark.req("DC-24", "DC-25")
def test_dc_24_dc_25_fee_dust_left_at_the_venue_is_no_open_trade_in_the_divergence(tmp_path, fake):
    """Binance takes its fee in the bought asset, so a sell leaves dust below the smallest order: flat."""
    from tradeops.store.models import TraderDivergenceRow

    bars = load_bars(DATA)
    config = session_config(
        "live", "sma_cross", {"fast": 5, "slow": 20}, DATA, RiskLimits(divergence_every_bars=1), cash=20_000.0
    )
    chosen = broker(fake)
    trader = Trader(
        open_engine(f"sqlite:///{tmp_path / 'ledger.db'}"), config, broker=chosen, venue=VenueSession(chosen)
    )
    dusty = []
    for t in range(bars.n_bars):
        trade(trader, fake, bars, t + 1)
        dusty += [t for s, p in trader_positions(trader).items() if p != 0 and chosen.is_flat(s, p)]
    assert len(dusty) > 20  # bars that closed with only dust held
    with Session(trader.engine) as db:
        rows = list(db.scalars(select(TraderDivergenceRow).where(TraderDivergenceRow.session_id == "live")))
    assert len(rows) == bars.n_bars - 2 and rows[-1].trades_backtest > 4
    assert [r.bar for r in rows if r.trades_live != r.trades_backtest] == []
