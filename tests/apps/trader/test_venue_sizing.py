"""The venue broker sizes an entry as the engine and the paper broker do (`tradeops.engine.sizing.units`).

The venue's own rounding is ccxt's (`amount_to_precision`, truncating decimal strings) and its minimum is
the market's; the engine's is float arithmetic. They agree at every lot and minimum, None included, except
where the cash buys an exact whole number of lots: float division can land a hair below it (0.3 / 0.1 is
2.9999999999999996), and the engine then buys one lot less, never more. (The engine's lots are floats: 199
lots of 0.1 is 19.900000000000002, the venue's 19.9; equal within 1e-12.)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.apps.trader.venue_helpers import broker
from tests.fakes.exchange import FakeBinance, walk
from tradeops.engine import sizing
from tradeops.trader.broker import OPEN_LONG, Account, Order, Proposal

MARKETS = {  # session symbol -> (venue base, lot step, minimum amount; None: the venue publishes none)
    "W1": ("WHOLE", Decimal("1"), Decimal("1")),
    "W2": ("NOMIN", Decimal("1"), None),
    "F1": ("MILLI", Decimal("0.001"), Decimal("0.01")),
    "F2": ("SATS", Decimal("0.00001"), None),
    "F3": ("TENTH", Decimal("0.1"), Decimal("0.5")),
}


@pytest.fixture(scope="module")
def venue() -> Iterator[FakeBinance]:
    fake = FakeBinance()
    for base, step, minimum in MARKETS.values():
        fake.add_market(base, "USDT", walk(0, 3), step=step, min_qty=minimum, min_notional=None)
    yield fake
    fake.stop()


@pytest.mark.req("DC-32")
@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    symbol=st.sampled_from(sorted(MARKETS)),
    cash=st.floats(1.0, 1e6, allow_nan=False),
    price=st.decimals(Decimal("0.05"), Decimal("90000"), places=2),
)
def test_dc_32_the_venue_broker_sizes_an_entry_as_the_engine_does_at_any_lot_and_minimum(venue, symbol, cash, price):
    base, step, minimum = MARKETS[symbol]
    venue.account.price[f"{base}USDT"] = price
    chosen = broker(venue)
    chosen.symbols = {name: f"{b}/USDT" for name, (b, _, _) in MARKETS.items()}
    plan = chosen.plan(
        Order("s:1:0:0", symbol, OPEN_LONG), Account.opening(cash), price=float(price), max_size=math.inf
    )
    fee = chosen.fee_rate(symbol)
    limit = chosen.entry_limit(symbol, float(price))  # the ask (no spread here), raised by the buffer, on the tick
    assert not isinstance(plan, Proposal) or plan.price == limit
    lot, least = float(step), sizing.lot_code(float(minimum) if minimum is not None else None)
    engine = sizing.units(cash, limit * (1 + fee), lot, least)
    venue_size = plan.size if isinstance(plan, Proposal) else 0.0
    if venue_size != pytest.approx(engine, rel=1e-12, abs=1e-15):  # only at an exact whole number of lots
        lots = cash / (limit * (1 + fee)) / lot
        assert abs(lots - round(lots)) < 1e-6 and venue_size - engine == pytest.approx(lot), (venue_size, engine)
    assert venue_size * limit * (1 + fee) <= cash * (1 + 1e-12)  # never more than the cash buys, fee included
    if venue_size:
        assert minimum is None or venue_size >= float(minimum)
        assert Decimal(str(venue_size)) % step == 0
