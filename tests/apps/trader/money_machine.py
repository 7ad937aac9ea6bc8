"""The money path as a hypothesis state machine: the live loop against the venue simulator, checked at every step.

One example is one session: a SQLite ledger in a temp dir, one FakeBinance (started once, stopped in
`teardown`), the bars `sample:synthetic?symbols=2&bars=240` and a Trader with a VenueSession. The rules
interleave bars (the venue's price at the bar's close, moved by a drawn amount within the 50 bps buffer
or beyond it), halts, resumes, reduce-only, flatten (the kill switch's path), restarts (a new process on
the same ledger and venue, optionally killed mid-send after the venue booked an order), venue faults
(a reject, a lost answer, a partial fill, a 429) and edited history. The invariants are checked after
every step, and the per-bar ones after every bar a step advances.

The test (tests/apps/trader/test_money_invariants.py) runs it briefly; `make soak`
(pipelines/soak/money.py) runs the same machine longer.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import session_config
from tests.apps.trader.venue_helpers import SYMBOLS, broker, funded_venue
from tradeops.audit import AuditLog
from tradeops.data import load_bars
from tradeops.data.bars import Bars
from tradeops.errors import DataError
from tradeops.store.database import open_engine
from tradeops.store.models import TraderAccountRow, TraderOrderRow, TraderSessionRow, TraderTradeRow
from tradeops.trader.broker import CLOSE, Order
from tradeops.trader.control import HALTED, IN_FLIGHT, REDUCING, RUNNING, TraderControl
from tradeops.trader.loop import Trader
from tradeops.trader.venue import kill
from tradeops.trader.venue.ccxt_broker import CcxtBroker, client_order_id
from tradeops.trader.venue.reconcile import baseline, reconcile
from tradeops.trader.venue.session import VenueSession

DATA = "sample:synthetic?symbols=2&bars=240"
SESSION = "live"
CASH = 20_000.0  # the session's allocation; the venue account holds 50,000 USDT (other money beside it)
PARAMS = {"fast": 3, "slow": 8}  # fast averages: the session trades every few bars, so short runs trade
WARM_UP = 8  # sma_cross decides nothing before its slow average exists
DECIDED_AT_STATE = ("trader halted", "reduce-only: entries refused")  # risk.blocked: refused when decided, never sent
MOVES_BPS = (0.0, 0.0, 25.0, -40.0, -120.0, 45.0, 80.0, 200.0)  # within the 50 bps buffer, in our favour, beyond it
FAULTS = ("reject", "lost_answer", "partial_fill", "rate_limit")
AFTER = st.integers(0, 3)  # bars the feed delivers after an event (hypothesis draws rules evenly: bars keep coming)


class Killed(Exception):
    """The process died right after the venue booked its order, before it read the answer (a kill -9 mid-send)."""


@cache
def true_bars() -> Bars:
    return load_bars(DATA)


def open_trader(ledger_path: Path, fake: Any, *, every: int = 10) -> Trader:
    """A process on the session: its own ledger connection and venue broker, on the same ledger file and venue."""
    engine = open_engine(f"sqlite:///{ledger_path}")
    config = session_config(SESSION, "sma_cross", PARAMS, DATA, cash=CASH)
    chosen = broker(fake)
    return Trader(engine, config, broker=chosen, venue=VenueSession(chosen, reconcile_every=every))


def at_close(fake: Any, bars: Bars, t: int, move_bps: float = 0.0) -> None:
    """The venue's price is bar t's close (a live bar is traded once closed), moved by `move_bps` since."""
    for s, symbol in enumerate(bars.symbols):
        moved = float(bars.close[t, s]) * (1 + move_bps / 10_000)
        fake.account.price[SYMBOLS[symbol].replace("/", "")] = Decimal(f"{moved:.2f}")


@dataclass
class Tally:
    """What every run of the machine did, summed (the soak prints it)."""

    examples: int = 0
    steps: int = 0
    bars: int = 0
    venue_orders: int = 0
    venue_fills: int = 0
    rules: Counter[str] | None = None

    def count(self, name: str) -> None:
        self.steps += 1
        self.rules = self.rules if self.rules is not None else Counter()
        self.rules[name] += 1


TALLY = Tally()


class MoneyMachine(RuleBasedStateMachine):
    """The live loop against the venue simulator; its invariants are the money path's."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory(prefix="money-")
        self.ledger_path = Path(self.dir.name) / "ledger.db"
        self.fake = funded_venue()
        self.bars = true_bars()
        self.trader = open_trader(self.ledger_path, self.fake)
        self.auditor = broker(self.fake)  # the invariants' own view of the venue, apart from the trader's
        self.control = TraderControl(self.trader.engine)
        self.engines = [self.trader.engine]
        self.halted_at: int | None = None  # venue orders when the last halt returned (None: not halted)
        self.reducing_at: int | None = None  # venue orders when reduce-only returned
        self.partial_for_next_bar = False
        TALLY.examples += 1

    def teardown(self) -> None:
        TALLY.venue_orders += len(self.fake.account.orders)
        TALLY.venue_fills += sum(1 for o in self.fake.account.orders if Decimal(o["executedQty"]) > 0)
        self.fake.stop()
        for engine in self.engines:
            engine.dispose()
        self.dir.cleanup()

    # -- helpers ----------------------------------------------------------------------------
    def _step(self, t: int, move_bps: float) -> None:
        at_close(self.fake, self.bars, t, move_bps)
        self.trader.step(self.bars, t)
        TALLY.bars += 1
        if self.partial_for_next_bar:
            self.fake.account.fill_ratio, self.partial_for_next_bar = Decimal(1), False
        self._after_bar()

    def _after_bar(self) -> None:
        """What must hold after every completed bar (also checked after every step by the invariants)."""
        self.cash_never_below_zero()
        self.ledger_equals_the_venue()
        state = self._state()
        if state == HALTED and self.halted_at is None:  # the risk engine or a reconciliation halted it
            self.halted_at = len(self.fake.account.orders)

    def _state(self) -> str:
        with Session(self.trader.engine) as db:
            row = db.get(TraderSessionRow, SESSION)
            return row.state if row is not None else RUNNING

    def _ledger_orders(self) -> list[TraderOrderRow]:
        with Session(self.trader.engine) as db:
            return list(db.scalars(select(TraderOrderRow).where(TraderOrderRow.session_id == SESSION)))

    def _in_flight(self) -> bool:
        return any(o.status in IN_FLIGHT for o in self._ledger_orders())

    # -- rules ------------------------------------------------------------------------------
    @initialize()
    def warm_up(self) -> None:
        for t in range(WARM_UP):
            self._step(t, 0.0)

    @rule(bars=st.integers(1, 10), move_bps=st.sampled_from(MOVES_BPS))
    def bar(self, bars: int, move_bps: float) -> None:
        """Advance `bars` bars (a few per step, so a short run still trades), the venue moved by `move_bps`."""
        TALLY.count("bar")
        self._advance(bars, move_bps)

    def _advance(self, bars: int, move_bps: float = 0.0) -> None:
        """The feed delivers the next `bars` bars (every other rule ends with a few: events happen between bars)."""
        for _ in range(bars):
            t = self.trader.last_bar + 1
            if t >= self.bars.n_bars:
                return
            self._step(t, move_bps)

    @precondition(lambda self: self._state() != HALTED)
    @rule(then=AFTER)
    def halt(self, then: int) -> None:
        TALLY.count("halt")
        self.control.set_state(HALTED, actor="ops", reason="drill", session_id=SESSION)
        self.halted_at = len(self.fake.account.orders)
        self._advance(then)

    @precondition(lambda self: self._state() != RUNNING)
    @rule(then=AFTER)
    def resume(self, then: int) -> None:
        TALLY.count("resume")
        self.control.set_state(RUNNING, actor="ops", reason="drill over", session_id=SESSION)
        self.halted_at = self.reducing_at = None
        self._advance(then)

    @precondition(lambda self: self._state() == RUNNING)
    @rule(then=AFTER)
    def reduce_only(self, then: int) -> None:
        TALLY.count("reduce_only")
        self.control.set_state(REDUCING, actor="ops", reason="drill", session_id=SESSION)
        self.halted_at, self.reducing_at = None, len(self.fake.account.orders)
        self._advance(then)

    @precondition(lambda self: self._state() != HALTED)
    @rule(then=AFTER)
    def flatten(self, then: int) -> None:
        """The kill switch: halt, then cancel at the venue and sell what the session holds (as its own closes)."""
        TALLY.count("flatten")
        status = self.control.set_state(HALTED, actor="ops", reason="flatten drill", session_id=SESSION)
        before = self.halted_at = len(self.fake.account.orders)
        assert isinstance(self.trader.broker, CcxtBroker)
        kill.withdraw(self.trader.engine, self.trader.broker, status, actor="ops", reason="drill", flatten=True)
        sent = self.fake.account.orders[before:]
        assert all(o["side"] == "SELL" for o in sent), "flatten sent something other than a close"
        self.halted_at = len(self.fake.account.orders)  # the kill switch's own closes; nothing else after them
        self._advance(then)

    @rule(mid_send=st.booleans(), then=AFTER)
    def restart(self, mid_send: bool, then: int) -> None:
        """A new process on the same ledger and venue. Between bars a kill -9 is the same for the ledger (each bar is
        one transaction); `mid_send` kills the process at the next bar right after the venue booked an order."""
        TALLY.count("restart")
        if mid_send and self.trader.last_bar + 1 < self.bars.n_bars:
            exchange = self.trader.broker.exchange  # type: ignore[attr-defined]
            place = exchange.create_order

            def dies_after_booking(*args: Any, **kwargs: Any) -> Any:
                place(*args, **kwargs)
                raise Killed

            exchange.create_order = dies_after_booking
            t = self.trader.last_bar + 1
            at_close(self.fake, self.bars, t)
            try:
                self.trader.step(self.bars, t)
            except Killed:
                pass  # the order is `sent` in the ledger and booked at the venue: the next process finds it
            else:
                TALLY.bars += 1
                self._after_bar()
        self.trader = open_trader(self.ledger_path, self.fake)
        self.engines.append(self.trader.engine)
        self.control = TraderControl(self.trader.engine)
        self._advance(then)

    @rule(kind=st.sampled_from(FAULTS), then=AFTER)
    def fault(self, kind: str, then: int) -> None:
        """The venue's next order (or request) misbehaves."""
        TALLY.count("fault")
        account = self.fake.account
        if kind == "reject":
            account.rejects.append((-2010, "Account has insufficient balance for requested action."))
        elif kind == "lost_answer":
            account.lost_answers += 1
        elif kind == "partial_fill":
            account.fill_ratio, self.partial_for_next_bar = Decimal("0.5"), True
        else:
            self.fake.too_many_requests.append(0)
        self._advance(then)

    @precondition(lambda self: 0 <= self.trader.last_bar < self.bars.n_bars - 1)
    @rule(edited_bar=st.integers(0, 10_000), factor=st.sampled_from((1.01, 0.99, 1.0001)))
    def edit_history(self, edited_bar: int, factor: float) -> None:
        """A bar the session already traded is edited: the step raises DataError and sends nothing."""
        TALLY.count("edit_history")
        close = self.bars.close.copy()
        close[edited_bar % (self.trader.last_bar + 1), edited_bar % 2] *= factor
        edited = replace(self.bars, close=close)
        placed, t = len(self.fake.account.orders), self.trader.last_bar + 1
        at_close(self.fake, self.bars, t)
        try:
            self.trader.step(edited, t)
        except DataError:
            pass
        else:
            raise AssertionError("a step on edited history did not raise DataError")
        assert len(self.fake.account.orders) == placed, "orders were sent on edited history"

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def cash_never_below_zero(self) -> None:
        with Session(self.trader.engine) as db:
            accounts = db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == SESSION)).all()
        low = [(a.symbol, a.cash) for a in accounts if a.cash < -1e-9]
        assert not low, f"session cash below zero: {low}"

    @invariant()
    def nothing_reaches_the_venue_after_a_halt(self) -> None:
        """Once a halt returned, the venue accepts nothing more until a resume (flatten's closes are counted in);
        under reduce-only, nothing but sells."""
        orders = self.fake.account.orders
        if self.halted_at is not None:
            assert len(orders) == self.halted_at, f"{len(orders) - self.halted_at} order(s) reached the venue halted"
        if self.reducing_at is not None:
            assert all(o["side"] == "SELL" for o in orders[self.reducing_at :]), "an entry was sent under reduce-only"

    @invariant()
    def no_fill_booked_twice(self) -> None:
        """Each client order id reached the venue once; the ledger's filled orders are exactly the venue's orders
        with something executed (the session's, not in flight), each once; one closed trade per filled close."""
        venue = self.fake.account.orders
        sent = Counter(o["clientOrderId"] for o in venue)
        assert all(n == 1 for n in sent.values()), f"client ids sent twice: {[c for c, n in sent.items() if n > 1]}"
        ledger = self._ledger_orders()
        cids = {client_order_id(Order(o.id, o.symbol, o.intent)): o for o in ledger}
        assert set(sent) <= set(cids), "the venue holds orders the ledger never decided"
        settled = {cid for cid, o in cids.items() if o.status not in IN_FLIGHT}
        executed = {o["clientOrderId"] for o in venue if Decimal(o["executedQty"]) > 0} & settled
        filled = {cid for cid in settled if cids[cid].status == "filled"}
        only = sorted(filled - executed), sorted(executed - filled)
        assert filled == executed, f"filled in the ledger only: {only[0]}; executed at the venue only: {only[1]}"
        with Session(self.trader.engine) as db:
            trades = len(db.scalars(select(TraderTradeRow).where(TraderTradeRow.session_id == SESSION)).all())
        closes = sum(1 for o in ledger if o.status == "filled" and o.intent == CLOSE)
        assert trades == closes, f"{trades} closed trades for {closes} filled closes"

    @invariant()
    def ledger_equals_the_venue(self) -> None:
        """Every asset the venue holds equals baseline + ledger, whenever no order is in flight (a process killed
        mid-send leaves one whose fill the venue holds and the ledger not yet: its next bar books it). The
        session halts itself on a difference; this asserts there never is one, halted or not."""
        with Session(self.trader.engine) as db:
            recorded = baseline(db, SESSION) is not None
        if not recorded or self._in_flight():
            return
        found = reconcile(self.trader.engine, SESSION, self.auditor)
        assert found.ok, f"ledger and venue differ: {found.differences}"

    @invariant()
    def every_refusal_has_its_reason_audited(self) -> None:
        """Every rejected or unfilled order carries its reason; every order refused at the gateway or by a pre-trade
        limit has its audit entry (`trader.order.refused` / `trader.order.rejected`) naming it. Orders decided while
        halted or reduce-only are refused when decided (never sent), and the state change is what is audited."""
        ledger = self._ledger_orders()
        unexplained = [o.id for o in ledger if o.status in ("rejected", "unfilled") and not (o.reason or "").strip()]
        assert not unexplained, f"refused without a reason: {unexplained}"
        log = AuditLog(self.trader.engine)
        audited = {
            e.detail.get("order")
            for prefix in ("trader.order.refused", "trader.order.rejected")
            for e in log.entries(action_prefix=prefix)
        }
        refused = [o for o in ledger if o.status == "rejected" and o.reason not in DECIDED_AT_STATE]
        missing = [(o.id, o.reason) for o in refused if o.id not in audited]
        assert not missing, f"refused but not audited: {missing}"
        if any(o.reason in DECIDED_AT_STATE for o in ledger):
            changes = {e.action for e in log.entries(action_prefix="trader.")}
            assert changes & {f"trader.{HALTED}", f"trader.{REDUCING}"}, "orders refused by a state nobody set"


def run_uninterrupted(directory: Path, until: int, restarts: frozenset[int] = frozenset()) -> dict[str, Any]:
    """Run bars 0..until-1 on a fresh venue, a new process at each bar in `restarts`; the ledger it leaves."""
    from tests.apps.trader.conftest import ledger

    fake = funded_venue()
    try:
        trader = open_trader(directory / "ledger.db", fake)
        bars = true_bars()
        for t in range(until):
            if t in restarts:
                trader.engine.dispose()
                trader = open_trader(directory / "ledger.db", fake)
            at_close(fake, bars, t)
            trader.step(bars, t)
        found = ledger(trader.engine, SESSION)
        trader.engine.dispose()
        return found
    finally:
        fake.stop()
