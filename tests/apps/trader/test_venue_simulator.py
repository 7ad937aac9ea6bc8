"""The fake Binance does not share our assumptions: each inconvenient behaviour of a real venue is a
switch a test sets, and ccxt (the real client) sees it exactly as it would from Binance."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import pytest

from tests.apps.trader.venue_helpers import broker, fund_other_money
from tests.fakes.binance_account import THIRD_ASSET_FEE_RATE, seeded_path
from tests.fakes.exchange import walk

pytestmark = pytest.mark.req("DC-27")


@pytest.fixture
def venue(fake):
    """ccxt's binance pointed at the fake, its markets loaded, BTC/USDT priced at exactly 100."""
    fake.account.price["BTCUSDT"] = Decimal("100")
    exchange = broker(fake).exchange
    exchange.load_markets()
    return exchange


def _fill_price(venue, order):
    (trade,) = venue.fetch_my_trades("BTC/USDT", params={"orderId": order["id"]})
    return Decimal(str(trade["price"]))


def test_dc_27_quotes_carry_the_spread_and_market_orders_fill_at_the_touch(fake, venue):
    fake.account.spread_bps = 20  # 0.2%: 10 bps either side of 100
    ticker = venue.fetch_ticker("BTC/USDT")
    assert (ticker["bid"], ticker["ask"], ticker["last"]) == (99.9, 100.1, 100.0)
    book = venue.fetch_order_book("BTC/USDT", limit=5)
    assert book["bids"][0][0] == 99.9 and book["asks"][0][0] == 100.1
    assert [level[0] for level in book["asks"]] == pytest.approx([100.1, 100.11, 100.12, 100.13, 100.14])
    quote = venue.publicGetTickerBookTicker({"symbol": "BTCUSDT"})
    assert (quote["bidPrice"], quote["askPrice"]) == ("99.90000000", "100.10000000")

    fake.account.fund("BTC", 1)
    bought = venue.create_order("BTC/USDT", "market", "buy", 0.1)
    sold = venue.create_order("BTC/USDT", "market", "sell", 0.1)
    assert (_fill_price(venue, bought), _fill_price(venue, sold)) == (Decimal("100.1"), Decimal("99.9"))


@pytest.mark.parametrize(("move_bps", "buy_at", "sell_at"), [(30, "100.30", "100.30"), (-30, "99.70", "99.70")])
def test_dc_27_the_venues_own_price_path_fills_away_from_the_quote_in_both_directions(
    fake, venue, move_bps, buy_at, sell_at
):
    fake.account.fund("BTC", 1)
    quoted = venue.fetch_ticker("BTC/USDT")
    assert quoted["ask"] == quoted["bid"] == 100.0
    fake.account.move_bps = move_bps
    bought = venue.create_order("BTC/USDT", "market", "buy", 0.1)
    sold = venue.create_order("BTC/USDT", "market", "sell", 0.1)
    assert _fill_price(venue, bought) == Decimal(buy_at)
    assert _fill_price(venue, sold) == Decimal(sell_at)
    assert bought["average"] == float(buy_at)  # the order's own answer says where it filled


def test_dc_27_a_seeded_price_path_lands_fills_above_and_below_the_quote_and_repeats(fake, venue):
    fake.account.price_path = seeded_path(seed=7, max_bps=40)
    fills = [_fill_price(venue, venue.create_order("BTC/USDT", "market", "buy", 0.1)) for _ in range(8)]
    assert min(fills) < 100 < max(fills)
    assert all(Decimal("99.6") <= price <= Decimal("100.4") for price in fills)
    again = seeded_path(seed=7, max_bps=40)
    assert fills == [(100 * again("BTCUSDT", n)).quantize(Decimal("0.01")) for n in range(8)]


def test_dc_27_latency_delays_every_answer_or_one_route(fake, venue):
    fake.latency_seconds = 0.3
    started = time.monotonic()
    venue.fetch_ticker("BTC/USDT")
    assert time.monotonic() - started >= 0.3

    fake.latency_seconds = 0.0
    fake.route_latency["/api/v3/order"] = 0.3
    started = time.monotonic()
    venue.fetch_ticker("BTC/USDT")
    quick = time.monotonic() - started
    started = time.monotonic()
    venue.create_order("BTC/USDT", "market", "buy", 0.1)
    assert quick < 0.3 <= time.monotonic() - started


def test_dc_27_a_lost_answer_is_a_network_error_while_the_order_stands_at_the_venue(fake, venue):
    fake.account.lost_answers = 1
    with pytest.raises(ccxt.NetworkError):
        venue.create_order("BTC/USDT", "market", "buy", 0.1, params={"newClientOrderId": "lost1"})
    found = venue.fetch_order(None, "BTC/USDT", params={"origClientOrderId": "lost1"})
    assert found["status"] == "closed" and found["filled"] == 0.1
    assert fake.account.total("BTC") > 0  # it filled: the money moved although the client heard nothing
    answered = venue.create_order("BTC/USDT", "market", "buy", 0.1, params={"newClientOrderId": "next1"})
    assert answered["clientOrderId"] == "next1"  # one-shot: the next order is answered


def test_dc_27_a_rate_limit_is_a_429_with_retry_after_and_books_nothing(fake, venue):
    fake.too_many_requests.append(3)
    with pytest.raises(ccxt.DDoSProtection, match="-1003"):
        venue.create_order("BTC/USDT", "market", "buy", 0.1)
    assert venue.last_response_headers["Retry-After"] == "3"
    assert fake.account.orders == []
    venue.create_order("BTC/USDT", "market", "buy", 0.1)
    assert len(fake.account.orders) == 1


def test_dc_27_a_market_without_minimums_is_none_in_ccxt_and_takes_tiny_orders(fake, venue):
    fake.add_market("SOL", "USDT", walk(0, 5, price=150.0), step="0.001", tick="0.1", min_qty=None, min_notional=None)
    fake.add_market("ADA", "USDT", walk(0, 5, price=150.0), step="0.001", tick="0.1", min_qty="1", min_notional="5")
    markets = venue.load_markets(reload=True)
    sol, ada = markets["SOL/USDT"], markets["ADA/USDT"]
    assert sol["limits"]["amount"]["min"] is None and sol["limits"]["cost"]["min"] is None
    assert (sol["precision"]["amount"], sol["precision"]["price"]) == (0.001, 0.1)
    assert (ada["limits"]["amount"]["min"], ada["limits"]["cost"]["min"]) == (1.0, 5.0)

    tiny = venue.create_order("SOL/USDT", "market", "buy", 0.001)  # 0.15 USDT: nothing forbids it
    assert tiny["status"] == "closed" and tiny["filled"] == 0.001
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        venue.create_order("ADA/USDT", "market", "buy", 0.5)  # the same venue enforces what it publishes
    with pytest.raises(ccxt.ExchangeError, match="NOTIONAL"):
        venue.create_order("BTC/USDT", "market", "buy", 0.01)  # 1 USDT below BTC/USDT's 5 USDT


def test_dc_27_fees_paid_in_bnb_show_in_my_trades_and_balances_then_fall_back(fake, venue):
    fake.add_market("BNB", "USDT", walk(0, 5, price=600.0))
    fake.account.price["BNBUSDT"] = Decimal("600")
    fake.account.fee_asset = "BNB"
    fund_other_money(fake, {"BNB": 0.0001})
    first = venue.create_order("BTC/USDT", "market", "buy", 0.5)  # 50 USDT: 0.0000625 BNB of fee
    (trade,) = venue.fetch_my_trades("BTC/USDT", params={"orderId": first["id"]})
    fee = Decimal(50) * THIRD_ASSET_FEE_RATE / 600
    assert trade["fee"]["currency"] == "BNB" and Decimal(str(trade["fee"]["cost"])) == fee
    balance = venue.fetch_balance()
    assert balance["BTC"]["total"] == 0.5  # the whole amount bought arrives
    assert Decimal(str(balance["BNB"]["total"])) == Decimal("0.0001") - fee

    second = venue.create_order("BTC/USDT", "market", "buy", 0.5)  # the BNB left is short: BTC pays, as on Binance
    (fallback,) = venue.fetch_my_trades("BTC/USDT", params={"orderId": second["id"]})
    assert fallback["fee"]["currency"] == "BTC" and fallback["fee"]["cost"] == 0.0005
    assert venue.fetch_balance()["BTC"]["total"] == 0.9995


def test_dc_27_an_account_holding_other_money_lists_it_and_trading_leaves_it_alone(fake, venue):
    fund_other_money(fake, {"ETH": 2.5, "BNB": 3, "EUR": 1200})
    venue.create_order("BTC/USDT", "market", "buy", 0.1)
    balance = venue.fetch_balance()
    assert {asset: balance[asset]["total"] for asset in ("ETH", "BNB", "EUR")} == {"ETH": 2.5, "BNB": 3, "EUR": 1200}
    assert balance["USDT"]["total"] == 50_000 - 10 and balance["BTC"]["total"] == pytest.approx(0.0999)


def test_dc_27_a_buy_needs_what_it_spends_at_the_fill_price_never_its_fee(fake, venue):
    fake.account.balances["USDT"] = Decimal("100")
    venue.create_order("BTC/USDT", "market", "buy", 1)  # all of it: the fee comes out of the BTC received
    assert fake.account.balances["USDT"] == 0 and fake.account.total("BTC") == Decimal("0.999")

    fake.account.balances["USDT"] = Decimal("100")
    fake.account.move_bps = 10  # the quote says 100 fits; the fill at 100.10 does not
    with pytest.raises(ccxt.InsufficientFunds):
        venue.create_order("BTC/USDT", "market", "buy", 1)
    assert len(fake.account.orders) == 1


def test_dc_27_a_partial_fill_expires_the_rest_of_a_market_order(fake, venue):
    fake.account.fill_ratio = Decimal("0.4")
    order = venue.create_order("BTC/USDT", "market", "buy", 0.5)
    assert (order["status"], order["filled"], order["remaining"]) == ("expired", 0.2, 0.3)
