"""The venue broker against a fake Binance speaking the real REST format, with ccxt as the client."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.apps.trader.venue_helpers import broker
from tradeops.errors import VenueError
from tradeops.trader.broker import CLOSE, OPEN_LONG, OPEN_SHORT, Account, Order
from tradeops.trader.venue.ccxt_broker import client_order_id
from tradeops.trader.venue.exchange import Deadline

pytestmark = pytest.mark.req("DC-24")


def test_dc_24_client_order_ids_are_stable_short_and_in_the_venues_charset():
    long_session = "s" * 64
    order = Order(f"{long_session}:000000012:0001:1", "SYN000", OPEN_LONG)
    cid = client_order_id(order)
    assert cid == client_order_id(Order(order.id, "SYN000", OPEN_LONG))
    assert cid != client_order_id(Order(order.id, "SYN000", CLOSE))
    assert len(cid) <= 32 and cid.isalnum()


def test_dc_24_a_market_buy_and_close_record_the_venues_fills_and_fees(fake):
    venue = broker(fake)
    opening = Account.opening(1000.0)
    bought = venue.execute(Order("s:000000001:0000:0", "SYN000", OPEN_LONG), opening, price=100.0, bar=1, max_size=9e9)
    assert bought.filled
    (trade,) = fake.account.trades
    assert bought.size == float(trade["qty"]) and bought.price == pytest.approx(float(trade["price"]))
    assert bought.account.position == pytest.approx(float(Decimal(trade["qty"]) - Decimal(trade["commission"])))
    assert bought.account.cash == pytest.approx(1000.0 - float(trade["quoteQty"]))
    assert bought.size * 100.0 * 1.001 <= 1000.0  # sized to the cash after the venue's fee, at the venue's precision
    assert Decimal(str(bought.size)) % Decimal("0.00001") == 0

    fake.account.price["BTCUSDT"] = Decimal("110")
    closed = venue.execute(
        Order("s:000000005:0000:0", "SYN000", CLOSE), bought.account, price=110.0, bar=5, max_size=9e9
    )
    sold = fake.account.trades[1]
    assert closed.filled and closed.closed is not None
    assert closed.fees == pytest.approx(float(sold["commission"]))  # a sell pays its fee in USDT
    assert closed.account.cash == pytest.approx(
        bought.account.cash + float(sold["quoteQty"]) - float(sold["commission"])
    )
    assert closed.closed.pnl == pytest.approx(closed.account.cash - 1000.0)
    assert venue.is_flat("SYN000", closed.account.position)  # at most fee dust below the lot size is left


def test_dc_24_a_partial_fill_records_only_what_the_venue_filled(fake):
    fake.account.fill_ratio = Decimal("0.4")
    done = broker(fake).execute(
        Order("s:000000001:0000:0", "SYN000", OPEN_LONG), Account.opening(1000.0), price=102.5, bar=1, max_size=5.0
    )
    (order,) = fake.account.orders
    assert order["status"] == "EXPIRED"
    assert done.filled and done.size == pytest.approx(float(order["executedQty"]))
    assert done.size == pytest.approx(float(order["origQty"]) * 0.4, abs=1e-5)


def test_dc_24_a_venue_reject_is_an_unfilled_order_with_the_venues_reason(fake):
    fake.account.rejects.append((-2010, "Account has insufficient balance for requested action."))
    done = broker(fake).execute(
        Order("s:000000001:0000:0", "SYN000", OPEN_LONG), Account.opening(1000.0), price=102.5, bar=1, max_size=9e9
    )
    assert not done.filled and "insufficient balance" in (done.reason or "")
    assert done.account == Account.opening(1000.0)


def test_dc_24_orders_below_the_venues_minimums_are_not_sent(fake):
    venue = broker(fake)
    tiny = Account.opening(4.0)  # below the NOTIONAL filter's 5 USDT
    order = Order("s:000000001:0000:0", "SYN000", OPEN_LONG)
    assert venue.propose(order, tiny, price=102.5, max_size=9e9) is None
    done = venue.execute(order, tiny, price=102.5, bar=1, max_size=9e9)
    assert not done.filled and "minimum notional" in (done.reason or "")
    short = venue.execute(
        Order("s:000000001:0001:0", "SYN001", OPEN_SHORT), Account.opening(1000.0), price=180, bar=1, max_size=9e9
    )
    assert not short.filled and "short" in (short.reason or "")
    assert fake.account.orders == []
    proposal = venue.propose(order, Account.opening(1000.0), price=102.5, max_size=1.234567)
    assert proposal is not None and proposal.side == "buy" and proposal.size == 1.23456
    ask = float(fake.account.price["BTCUSDT"])  # sized and capped at the venue's fresh quote, not the bar's 102.5
    assert proposal.price == pytest.approx(ask * (1 + venue.buffer), abs=0.01)
    assert proposal.notional == pytest.approx(1.23456 * proposal.price)


def test_dc_24_a_timeout_after_the_venue_accepted_finds_the_order_instead_of_placing_it_again(fake):
    fake.account.answer_delay = 1.5  # longer than the broker's 0.5 s request deadline
    order = Order("s:000000001:0000:0", "SYN000", OPEN_LONG)
    done = broker(fake).execute(order, Account.opening(1000.0), price=102.5, bar=1, max_size=9e9)
    assert done.filled
    assert len(fake.account.by_client_id(client_order_id(order))) == 1
    assert len(fake.account.orders) == 1
    again = broker(fake).execute(order, Account.opening(1000.0), price=102.5, bar=1, max_size=9e9)  # a restart
    assert again == done and len(fake.account.orders) == 1


def test_dc_24_a_venue_that_never_answers_is_a_venue_error_after_the_deadline(fake):
    fake.hook = lambda phase, method, path: phase == "before"  # every signed request is lost
    slow = Deadline(request_seconds=0.3, order_seconds=1.0, backoff_seconds=0.05)
    with pytest.raises(VenueError, match="no answer from the venue"):
        broker(fake, deadline=slow).execute(
            Order("s:000000001:0000:0", "SYN000", OPEN_LONG), Account.opening(1000.0), price=102.5, bar=1, max_size=9e9
        )


def test_dc_24_a_limit_order_left_open_across_a_restart_is_settled_not_placed_again(fake):
    venue = broker(fake, order_type="limit", fill_wait_seconds=0.3)
    order = Order("s:000000001:0000:0", "SYN000", OPEN_LONG)
    cid = client_order_id(order)
    fake.account.fill_ratio = Decimal("0.5")  # the first process's order: half filled, the rest resting
    venue.exchange.create_order("BTC/USDT", "limit", "buy", 2.0, 102.5, params={"newClientOrderId": cid})
    assert fake.account.open_orders()[0]["status"] == "PARTIALLY_FILLED"

    restarted = broker(fake, order_type="limit", fill_wait_seconds=0.3)
    done = restarted.execute(order, Account.opening(1000.0), price=102.5, bar=1, max_size=9e9)
    assert len(fake.account.by_client_id(cid)) == 1
    assert fake.account.open_orders() == []  # the rest was cancelled, and its locked USDT released
    assert done.filled and done.size == pytest.approx(1.0)
    assert fake.account.locked.get("USDT", 0) == 0
    (trade,) = fake.account.trades  # a marketable limit fills at the book's price, below its 102.5 limit
    assert Decimal(trade["price"]) < Decimal("102.5")
    assert fake.account.total("USDT") == pytest.approx(Decimal(50_000) - Decimal(trade["quoteQty"]))


def test_dc_24_a_bad_api_key_is_a_clear_venue_error(fake):
    fake.account.api_key = "another"
    with pytest.raises(VenueError, match="refused the API key"):
        broker(fake).execute(
            Order("s:000000001:0000:0", "SYN000", OPEN_LONG), Account.opening(1000.0), price=1, bar=1, max_size=1
        )
