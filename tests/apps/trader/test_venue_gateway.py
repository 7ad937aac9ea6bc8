"""The venue gateway against the venue simulator: each of issue 25's eight defects, in the world that shows it.

Every test states the simulator's switches it runs under (fills away from the bar, no minimum quantity,
fees in BNB, a halt during a send, 1h bars just closed, flatten while the loop runs, a restart on edited
bars, a client id already working at the venue).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import session_config
from tests.apps.trader.venue_helpers import SYMBOLS, broker, duplicates, left_open
from tests.fakes.binance_account import MarketRules
from tradeops.audit import AuditLog
from tradeops.data import load_bars
from tradeops.data.bars import Bars
from tradeops.errors import DataError
from tradeops.settings import AppSettings
from tradeops.store.database import open_engine
from tradeops.store.models import TraderAccountRow, TraderOrderRow, TraderTradeRow
from tradeops.trader import killswitch
from tradeops.trader.broker import OPEN_LONG, Order
from tradeops.trader.control import HALTED, TraderControl
from tradeops.trader.loop import Trader
from tradeops.trader.venue import kill
from tradeops.trader.venue.ccxt_broker import client_order_id
from tradeops.trader.venue.reconcile import reconcile
from tradeops.trader.venue.session import VenueSession

pytestmark = pytest.mark.req("DC-26")
DATA = "sample:synthetic?symbols=2&bars=240"
CASH = 20_000.0


class Clock:
    """The wall clock the gateway reads: a live feed hands over each bar a few seconds after it closed."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


def hourly(bars: Bars, *, end: datetime) -> Bars:
    """The same bars on a 1h timeline whose last bar closes at `end`."""
    index = pd.date_range(end=end - timedelta(hours=1), periods=bars.n_bars, freq="1h", tz="UTC")
    return replace(bars, index=index)


def venue_trader(tmp_path, fake, *, every: int = 40, max_age: float | None = None, clock=None, **options) -> Trader:
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    config = session_config("live", "sma_cross", {"fast": 5, "slow": 20}, DATA, cash=CASH)
    chosen = broker(fake, **options)
    venue = VenueSession(chosen, reconcile_every=every, max_bar_age_seconds=max_age, now=clock or Clock())
    return Trader(engine, config, broker=chosen, venue=venue)


def at_close(fake, bars: Bars, t: int) -> None:
    """The venue's price is where bar t closed (a live bar is traded once it has closed), not its open."""
    for s, symbol in enumerate(bars.symbols):
        fake.account.price[SYMBOLS[symbol].replace("/", "")] = Decimal(f"{bars.close[t, s]:.2f}")


def accounts(trader: Trader) -> dict[str, TraderAccountRow]:
    with Session(trader.engine) as db:
        return {a.symbol: a for a in db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == "live"))}


def orders(trader: Trader, *, status: str | None = None) -> list[TraderOrderRow]:
    with Session(trader.engine) as db:
        query = select(TraderOrderRow).where(TraderOrderRow.session_id == "live").order_by(TraderOrderRow.id)
        return [o for o in db.scalars(query) if status in (None, o.status)]


def run(trader: Trader, fake, bars: Bars, until: int, *, clock: Clock | None = None) -> None:
    """Step the session bar by bar, checking after each that its cash never went below zero."""
    for t in range(trader.last_bar + 1, until):
        at_close(fake, bars, t)
        if clock is not None:
            clock.at = bars.index[t].to_pydatetime() + timedelta(hours=1, seconds=5)
        trader.step(bars, t)
        assert min(a.cash for a in accounts(trader).values()) >= 0, f"cash below zero at bar {t}"


def test_dc_26_a_1h_session_with_default_settings_places_fills_and_reconciles(tmp_path, fake):
    """Defect 1: a just-closed 1h bar was an hour old counted from its open, against a 900 s limit."""
    defaults = AppSettings()
    clock = Clock()
    bars = hourly(load_bars(DATA), end=clock.at)
    fake.account.spread_bps, fake.account.move_bps = 4.0, 3.0  # a real book, and a price that moves on
    trader = venue_trader(
        tmp_path, fake, max_age=defaults.broker_max_bar_age_seconds, clock=clock,
        price_buffer=defaults.broker_price_buffer, order_type=defaults.broker_order_type,
    )  # fmt: skip
    run(trader, fake, bars, bars.n_bars, clock=clock)
    filled = orders(trader, status="filled")
    stale = [o for o in orders(trader) if "stale" in (o.reason or "")]
    print(f"1h session, default settings: {len(filled)} filled, {len(stale)} stale, {len(fake.account.orders)} sent")
    assert len(filled) >= 10 and stale == []
    assert duplicates(fake) == {}
    assert reconcile(trader.engine, "live", trader.broker).ok  # type: ignore[arg-type]


def test_dc_26_a_bar_closed_longer_ago_than_the_limit_sends_nothing(tmp_path, fake):
    clock = Clock()
    bars = hourly(load_bars(DATA), end=clock.at)
    trader = venue_trader(tmp_path, fake, max_age=900, clock=clock)
    for t in range(bars.n_bars):
        at_close(fake, bars, t)
        clock.at = bars.index[t].to_pydatetime() + timedelta(hours=1, seconds=901)  # a catch-up after downtime
        trader.step(bars, t)
    assert fake.account.orders == []
    assert orders(trader) and all("stale bar: closed 901s ago" in (o.reason or "") for o in orders(trader))


def pending(trader: Trader, bar: int, *symbols: str) -> list[Order]:
    """Entries decided at `bar` for `symbols`, written as the loop writes them (sent at bar + 1)."""
    with Session(trader.engine) as db, db.begin():
        made = []
        for s, symbol in enumerate(symbols):
            order = Order(f"live:{bar + 1:09d}:{s:04d}:9", symbol, OPEN_LONG)
            db.add(
                TraderOrderRow(
                    id=order.id, session_id="live", symbol=symbol, intent=OPEN_LONG, decided_bar=bar,
                    status="pending", created_at=datetime.now(UTC),
                )
            )  # fmt: skip
            made.append(order)
    trader.state = None  # read the ledger back, as a restarted process would
    return made


def test_dc_26_a_halt_during_a_send_waits_for_it_and_nothing_reaches_the_venue_after_it(tmp_path, fake):
    """Defect 2: a halt between the commit of a bar's intents and create_order still let the order through."""
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    run(trader, fake, bars, 3)  # no signal yet (slow=20): accounts open, nothing held
    first, second = pending(trader, 2, "SYN000", "SYN001")
    settings = AppSettings(data_dir=tmp_path / "desk")
    returned: list[float] = []
    accepted: list[float] = []

    def halt() -> None:
        killswitch.halt(settings, TraderControl(trader.engine), actor="ops", reason="drill", session_id="live")
        returned.append(time.monotonic())

    def on_order(stage: str, params: dict[str, str]) -> None:
        if stage == "received" and not accepted:
            threading.Thread(target=halt).start()  # the operator pulls the switch while the order is at the venue
            time.sleep(0.5)
        if stage == "accepted":
            accepted.append(time.monotonic())

    fake.account.on_order = on_order
    at_close(fake, bars, 3)
    trader.step(bars, 3)
    for _ in range(100):
        if returned:
            break
        time.sleep(0.05)
    assert len(fake.account.orders) == 1 and accepted  # the first was at the venue: its answer was awaited
    assert returned and returned[0] > accepted[0]  # the halt returned only after the venue answered
    assert [o["clientOrderId"] for o in fake.account.orders] == [client_order_id(first)]
    refused = {o.id: o for o in orders(trader)}[second.id]
    assert refused.status == "rejected" and refused.reason == "trader halted"
    assert TraderControl(trader.engine).status("live").state == HALTED
    (entry,) = [e for e in AuditLog(trader.engine).entries(action_prefix="trader.order.refused")]
    assert entry.detail["order"] == second.id and entry.detail["reason"] == "trader halted"
    placed = len(fake.account.orders)
    run(trader, fake, bars, 60)  # halted: nothing more is sent, whatever the strategy says
    assert len(fake.account.orders) == placed


@pytest.mark.parametrize(
    ("move_bps", "fills"),
    [(40.0, True), (-150.0, True), (150.0, False)],  # within the 50 bps buffer, in our favour, beyond the buffer
)
def test_dc_26_entries_are_sized_at_the_venues_price_and_never_spend_beyond_the_allocation(tmp_path, move_bps, fills):
    """Defect 3: sized at the bar's open, filled at the venue's price: cash went to -251.19, or the venue refused."""
    from tests.apps.trader.venue_helpers import funded_venue

    fake = funded_venue(CASH)  # the venue holds exactly the session's allocation
    try:
        fake.account.move_bps = move_bps  # every fill lands this far from the quote it was sized at
        bars = load_bars(DATA)
        trader = venue_trader(tmp_path, fake, every=20)
        run(trader, fake, bars, bars.n_bars)  # the venue's price is the bar's close, not its open
        entries = [o for o in orders(trader) if o.intent == OPEN_LONG]
        refused_at_venue = [o for o in entries if "insufficient balance" in (o.reason or "")]
        filled = [o for o in entries if o.status == "filled"]
        print(f"move {move_bps:+} bps: {len(filled)} of {len(entries)} entries filled")
        assert refused_at_venue == [] and len(entries) >= 5
        assert len(filled) == (len(entries) if fills else 0)  # beyond the buffer the protected order expires
        assert reconcile(trader.engine, "live", trader.broker).ok  # type: ignore[arg-type]
        assert all(Decimal(0) <= fake.account.total(a) for a in ("USDT", "BTC", "ETH"))
    finally:
        fake.stop()


def test_dc_26_flatten_while_the_loop_runs_books_each_sale_once(tmp_path, fake, monkeypatch):
    """Defect 4: the loop adopted flatten's `sent` orders and booked the sale; flatten then booked it again."""
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    t = 0
    while not any(a.position for a in accounts(trader).values()):
        run(trader, fake, bars, t + 1)
        t += 1
    real_record = kill._record

    def loop_runs_first(*args, **kwargs):  # the trading loop runs its bar between flatten's send and its booking
        at_close(fake, bars, trader.last_bar + 1)
        trader.step(bars, trader.last_bar + 1)
        return real_record(*args, **kwargs)

    monkeypatch.setattr(kill, "_record", loop_runs_first)
    control = TraderControl(trader.engine)
    status = control.set_state(HALTED, actor="ops", reason="drill", session_id="live")
    report = kill.withdraw(trader.engine, trader.broker, status, actor="ops", reason="drill", flatten=True)  # type: ignore[arg-type]
    assert report["flattened"] and all(f["filled"] for f in report["flattened"])
    sold = {f["order"] for f in report["flattened"]}
    with Session(trader.engine) as db:
        trades = db.scalars(select(TraderTradeRow).where(TraderTradeRow.session_id == "live")).all()
    sells = [o for o in fake.account.orders if o["side"] == "SELL"]
    assert len(trades) == len(sells)  # one closed trade per sale at the venue: none booked twice
    assert all(a.position >= 0 for a in accounts(trader).values())
    assert {o.id: o.status for o in orders(trader)} | dict.fromkeys(sold, "filled") == {
        o.id: o.status for o in orders(trader)
    }
    assert reconcile(trader.engine, "live", trader.broker).ok  # type: ignore[arg-type]


def test_dc_26_a_restart_on_edited_history_sends_nothing(tmp_path, fake):
    """Defect 5: a restarted process sent the bar's orders before the history check raised."""
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    run(trader, fake, bars, 30)
    pending(trader, 29, "SYN000")
    placed = len(fake.account.orders)
    close = bars.close.copy()
    close[10, 0] *= 1.01  # someone edited a bar the session already traded on
    edited = replace(bars, close=close)
    restarted = venue_trader(tmp_path, fake)  # a new process on the same ledger
    with pytest.raises(DataError, match="differ from those session 'live' already traded"):
        restarted.step(edited, 30)
    assert len(fake.account.orders) == placed


def test_dc_26_a_fee_paid_in_bnb_is_booked_and_reconciled(tmp_path, fake):
    """Defect 6: a fee charged in a third asset was booked as 0 and reconciliation never looked at BNB."""
    fake.add_market("BNB", "USDT", [])
    fake.account.price["BNBUSDT"] = Decimal("600")
    fake.account.fund("BNB", "5")
    fake.account.fee_asset = "BNB"
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake, every=20)
    run(trader, fake, bars, 120)
    filled = orders(trader, status="filled")
    assert filled and all(o.fees and o.fees > 0 for o in filled)
    paid = sum(o.other_fees["BNB"] for o in filled)
    assert paid == pytest.approx(float(Decimal("5") - fake.account.total("BNB")), rel=1e-6)
    found = reconcile(trader.engine, "live", trader.broker)  # type: ignore[arg-type]
    assert found.ok and "BNB" in found.balances
    fake.account.balances["BNB"] -= Decimal("0.5")  # BNB taken behind the session's back: now it is noticed
    found = reconcile(trader.engine, "live", trader.broker)  # type: ignore[arg-type]
    assert [(d.kind, d.key) for d in found.differences] == [("balance", "BNB")]


def test_dc_26_a_market_without_a_minimum_amount_opens_positions(tmp_path, fake):
    """Defect 7: with `limits.amount.min` None, `is_flat(0)` was `abs(0) < 0`: no position could ever open."""
    for pair in ("BTCUSDT", "ETHUSDT"):
        fake.account.rules[pair] = MarketRules(min_qty=None)
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    assert trader.broker.market("SYN000")["limits"]["amount"]["min"] is None  # type: ignore[attr-defined]
    run(trader, fake, bars, 120)
    assert len(orders(trader, status="filled")) >= 4
    assert not [o for o in orders(trader) if o.reason == "position not flat"]


def test_dc_26_an_order_whose_client_id_is_working_at_the_venue_is_refused(tmp_path, fake):
    """Defect 8: the duplicate guard on client ids had no input, so it never refused anything."""
    bars = load_bars(DATA)
    trader = venue_trader(tmp_path, fake)
    run(trader, fake, bars, 3)
    (order,) = pending(trader, 2, "SYN000")
    left_open(fake, client_order_id(order))  # another process already works this very order at the venue
    at_close(fake, bars, 3)
    trader.step(bars, 3)
    refused = {o.id: o for o in orders(trader)}[order.id]
    assert refused.status == "rejected" and refused.reason.startswith("duplicate_order")
    assert len(fake.account.by_client_id(client_order_id(order))) == 1  # only the other process's
